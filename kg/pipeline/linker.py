"""Entity recognition and linking against the knowledge base (component ``kg_linker``).

Finds every place the text names an entity, at character level (German
compounds such as ``Nato-Generalsekretär`` are one spaCy token but hold a
mention of NATO), and resolves it to one identity. The rules, and why, are
in docs/decisions/0007-linking.md; in short:

- the longest KB surface form wins at each position (``US-Außenministeriums``
  over ``US``), and forms include German inflections and adjectives;
- among several entities for one form: a country over an organisation over a
  person over a location (capital metonyms name the state: ``Moskau``,
  ``Kreml``, ``Washington``);
- a bare surname (``Rutte``) links when the full name occurs in the article,
  a title stands before it, or it is no common English word (``Trump``,
  ``Key`` and ``English`` need the full name);
- a generic programme word (``Atomprogramm``) links to the programme whose
  owning country is named in the same sentence; a common-noun alias of an
  organisation (``Allianz``, ``Bündnis``) only where the organisation is
  also named outright;
- a person the KB does not know is recognised as a known first name (or a
  title) followed by capitalised words, and later surname-only mentions in
  the article link to them.

Statistical NER (spaCy's ``ner``, the flair backend) adds the names the KB
does not know; the KB stays the authority for extent and identity
(docs/decisions/0009-ner-sources.md).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import simplemma
from spacy.language import Language
from spacy.tokens import Doc, Span

from kg.kb import FormKind, KnowledgeBase, SurfaceForm, load_kb
from kg.mapping import entity_key
from kg.model import EntityType

_UNIT = re.compile(r"\w+")
_NAME_UNIT = re.compile(r"\w+(?:-\w+)*")  # a surname may be hyphenated: Kaltenbrunner-Hessel
_CAPITALISED = re.compile(r"[A-ZÄÖÜ][\w'’-]*[a-zäöüßéèáíóúç]\w*(?:-\w+)*$")
_MAX_UNITS = 7
_TYPE_ORDER: dict[EntityType, int] = {"Country": 0, "Organization": 1, "Person": 2, "Location": 3, "Other": 4}
_KIND_ORDER: dict[FormKind, int] = {"label": 0, "alias": 1, "surname": 2, "adjective": 3, "generic": 4}

#: Words that end a title of office (German compounds end in them: Nato-Generalsekretär).
TITLE = re.compile(
    r"(generalsekretär|außenminister|verteidigungsminister|minister|präsident|kanzler|sprecher|"
    r"staatssekretär|regierungschef|premierminister|ministerpräsident|vorsitzende|chef|botschafter|"
    r"machthaber|diktator|könig|außenbeauftragte|staatschef|parteichef|befehlshaber|general|admiral|"
    r"senator|abgeordnete|gouverneur|sekretär|direktor|leiter|secretary|president|spokesperson|"
    r"spokesman|chancellor|prime minister)(in|innen|en|n|s|r)?$",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    [
        "Der",
        "Die",
        "Das",
        "Den",
        "Dem",
        "Des",
        "Ein",
        "Eine",
        "Und",
        "Oder",
        "Aber",
        "Auch",
        "Nach",
        "Vor",
        "Mit",
        "Bei",
        "Für",
        "Im",
        "In",
        "Am",
        "An",
        "Auf",
        "Aus",
        "Zum",
        "Zur",
        "Von",
        "Als",
        "Wie",
        "Wenn",
        "Dass",
        "Doch",
        "Noch",
        "The",
        "And",
        "But",
        "For",
        "With",
        "This",
        "That",
        "Sie",
        "Er",
        "Es",
        "Wir",
        "Ihr",
        "Ich",
        "Du",
        "Man",
        "Keine",
        "Kein",
        "Dieser",
        "Diese",
        "Dieses",
        "Jetzt",
        "Heute",
        "Bild",
        "Foto",
        "Quelle",
        "Update",
    ]
)


@dataclass(frozen=True, slots=True)
class LinkedMention:
    """A mention with its resolved entity and how the text named it."""

    start: int
    end: int
    text: str
    entity: str
    type: EntityType
    kind: MentionKind
    label: str


#: How the text named the entity: a KB form, or "unknown" for a name recognised without the KB.
MentionKind = FormKind | Literal["unknown"]
_Hit = tuple[int, int, list[SurfaceForm]]
#: A span from a statistical recogniser: (start char, end char, label such as PER).
Recognised = tuple[int, int, str]
#: Tags of recognisers (spaCy, flair's CoNLL-03, GermEval 2014, OntoNotes, WikiNER models) -> PER / LOC /
#: ORG / MISC.
_LABELS: dict[str, str] = {
    "PER": "PER",
    "PERSON": "PER",
    "LOC": "LOC",
    "LOCATION": "LOC",
    "GPE": "LOC",
    "ORG": "ORG",
    "ORGANIZATION": "ORG",
    "ORGANISATION": "ORG",
    "MISC": "MISC",
    "OTH": "MISC",
}


def normalise_label(tag: str) -> str:
    """PER / LOC / ORG / MISC for the tags of known recognisers; any other tag unchanged."""
    return _LABELS.get(tag.upper(), tag)


#: The type a new (KB-less) entity recognised with that label gets.
_NEW_TYPES: dict[str, EntityType] = {"PER": "Person", "ORG": "Organization", "LOC": "Location"}


_NOT_NAME_POS = frozenset({"NOUN", "ADJ", "VERB", "ADV", "PRON", "DET", "ADP", "NUM"})
_CALENDAR = frozenset(
    [
        "Januar",
        "Jänner",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
        "January",
        "February",
        "March",
        "May",
        "June",
        "July",
        "October",
        "December",
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonnabend",
        "Sonntag",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
)


def _plausible_name(surface: str) -> bool:
    """A name a recogniser may add: upper-case start, no digits, not a function word or a month/day."""
    words = surface.split()
    return (
        len(surface) >= 2
        and surface[:1].isupper()
        and not any(ch.isdigit() for ch in surface)
        and words[0] not in _NOT_NAMES
        and words[0] not in _CALENDAR
        and len(words) <= 6
    )


def _units(text: str) -> list[re.Match[str]]:
    return list(_UNIT.finditer(text))


def _sentence_of(position: int, sentences: Sequence[tuple[int, int]]) -> int:
    for i, (start, end) in enumerate(sentences):
        if start <= position < end:
            return i
    return -1


def _is_title(word: str) -> bool:
    return bool(TITLE.search(word))


def _common_english(word: str) -> bool:
    return bool(simplemma.is_known(word.lower(), lang="en"))


def _common_german_noun(word: str) -> bool:
    """``Allianz``, ``Bündnis``: a capitalised common noun, not an acronym (``EU``, ``UN``)."""
    return (
        word[:1].isupper()
        and not word.isupper()
        and " " not in word
        and bool(simplemma.is_known(word.lower(), lang="de"))
    )


class Linker:
    """Find and resolve entity mentions in a text. Pure given the KB."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        # The first word of every KB form: a span that starts with another word is no KB form.
        self._first_units = frozenset(m.group() for f in kb.surface_forms if (m := _UNIT.search(f)))

    def __call__(
        self,
        text: str,
        sentences: Sequence[tuple[int, int]],
        recognised: Sequence[Recognised] = (),
    ) -> list[LinkedMention]:
        """The mentions in `text`: the KB's first, then `recognised` spans (statistical NER) in order.

        The merge policy is docs/decisions/0009-ner-sources.md.
        """
        raw = self._gazetteer(text)
        named = {c.entity for _, _, cands in raw for c in cands if c.kind in ("label", "alias")}
        # every hit under each of its leading word runs ("Jordan" -> the hit "Jordan Bardella")
        longer: dict[str, list[_Hit]] = defaultdict(list)
        for hit in raw:
            surface = text[hit[0] : hit[1]]
            for space in (k for k, c in enumerate(surface) if c == " "):
                longer[surface[:space]].append(hit)
        mentions: list[LinkedMention] = []
        for start, end, cands in raw:
            chosen = self._choose(text, start, end, cands, named, sentences, raw, longer)
            if chosen is not None:
                mentions.append(chosen)
        mentions = self._recognised(text, mentions, raw, recognised)
        mentions = self._unknown_people(text, mentions)
        return sorted(mentions, key=lambda m: m.start)

    def _recognised(
        self, text: str, mentions: list[LinkedMention], raw: list[_Hit], recognised: Sequence[Recognised]
    ) -> list[LinkedMention]:
        """Add statistical NER spans where the KB found nothing (policy 0009).

        - A span overlapping a KB mention, or a span already taken from an
          earlier source, is dropped: the KB decides extent and identity.
        - A span whose text is a KB form the KB rules declined (a bare
          surname such as ``Trump``) links to the KB entity of the same type,
          the recogniser being the evidence the rule waited for; otherwise it
          is dropped, never minted as a second entity with a KB name.
        - Otherwise PER, ORG and LOC spans become entities without a
          Wikidata id (minted keys, as for unknown people); other labels
          (MISC) and implausible names (lower-case, digits, function words)
          are dropped.
        """
        out = list(mentions)
        taken = [(m.start, m.end) for m in out]
        for start, end, raw_label in recognised:
            label = normalise_label(raw_label)
            if label not in _NEW_TYPES or not all(end <= s or start >= e for s, e in taken):
                continue
            surface = text[start:end].strip()
            if surface != text[start:end] or not _plausible_name(surface):
                continue
            kb_hit = next((cs for s, e, cs in raw if s == start and e == end), None)
            if kb_hit is not None:
                same = [c for c in kb_hit if _SPACY_LABELS[self.kb.entities[c.entity].type] == label]
                if not same:
                    continue
                entity = self.kb.entities[same[0].entity]
                out.append(
                    LinkedMention(start, end, surface, entity.key, entity.type, same[0].kind, entity.label)
                )
            else:
                type_ = _NEW_TYPES[label]
                out.append(
                    LinkedMention(start, end, surface, entity_key(type_, surface), type_, "unknown", surface)
                )
            taken.append((start, end))
        return out

    def _gazetteer(self, text: str) -> list[_Hit]:
        units = _units(text)
        found: list[_Hit] = []
        i = 0
        while i < len(units):
            if units[i].group() not in self._first_units:
                i += 1
                continue
            hit: tuple[int, int, list[SurfaceForm], int] | None = None
            for j in range(min(len(units), i + _MAX_UNITS), i, -1):
                start, end = units[i].start(), units[j - 1].end()
                surface = text[start:end]
                if "\n" in surface:
                    continue
                cands = self.kb.candidates(surface)
                if cands:
                    hit = (start, end, cands, j)
                    break
            if hit is None:
                i += 1
                continue
            found.append(hit[:3])
            i = hit[3]
        return found

    def _choose(
        self,
        text: str,
        start: int,
        end: int,
        cands: list[SurfaceForm],
        named: set[str],
        sentences: Sequence[tuple[int, int]],
        raw: list[_Hit],
        longer: Mapping[str, list[_Hit]],
    ) -> LinkedMention | None:
        surface = text[start:end]
        ranked = sorted(
            cands, key=lambda c: (_TYPE_ORDER[self.kb.entities[c.entity].type], _KIND_ORDER[c.kind])
        )
        # "Jordan" after "Jordan Bardella": a first name alone names the person already mentioned.
        for s, e, cs in longer.get(surface, ()):
            if (s, e) != (start, end):
                person = [c for c in cs if self.kb.entities[c.entity].type == "Person"]
                if person:
                    ranked = [*person[:1], *ranked]
                    break
        for cand in ranked:
            entity = self.kb.entities[cand.entity]
            if cand.kind == "surname" and not (
                cand.entity in named or self._title_before(text, start) or not _common_english(surface)
            ):
                continue
            if cand.kind == "generic":
                owner = self.kb.owners.get(cand.entity)
                sentence = _sentence_of(start, sentences)
                if owner is None or not any(
                    owner in {c.entity for c in cs} and _sentence_of(s, sentences) == sentence
                    for s, _, cs in raw
                ):
                    continue
            if (
                cand.kind == "alias"
                and entity.type == "Organization"
                and _common_german_noun(surface)
                and surface.casefold() not in (entity.label_de.casefold(), entity.label_en.casefold())
                and not any(
                    c.entity == cand.entity and text[s:e] != surface and c.kind in ("label", "alias")
                    for s, e, cs in raw
                    for c in cs
                )
            ):
                continue
            return LinkedMention(start, end, surface, entity.key, entity.type, cand.kind, entity.label)
        return None

    @staticmethod
    def _title_before(text: str, start: int) -> bool:
        before = text[max(0, start - 40) : start].split()
        return bool(before) and _is_title(before[-1].rstrip(","))

    def _unknown_people(self, text: str, mentions: list[LinkedMention]) -> list[LinkedMention]:
        """Names the KB does not know: first name (or title) + capitalised words; then their surnames."""
        taken = [(m.start, m.end) for m in mentions]

        def free(a: int, b: int) -> bool:
            return all(b <= s or a >= e for s, e in taken)

        tokens = list(re.finditer(r"\S+", text))
        out = list(mentions)
        surnames: dict[str, LinkedMention] = {
            m.text.split()[-1]: m
            for m in mentions
            if m.kind == "unknown" and m.type == "Person" and " " in m.text
        }
        i = 0
        while i < len(tokens):
            first = tokens[i].group().strip(',.;:!?»«"“”„()')
            after_title = i > 0 and _is_title(tokens[i - 1].group().strip(",;:"))
            if (
                (first in self.kb.first_names or after_title)
                and _CAPITALISED.match(first)
                and first not in _NOT_NAMES
            ):
                parts = [tokens[i]]
                k = i + 1
                stop = tokens[i].group().rstrip(',.;:!?»«"“”)') != tokens[i].group()
                while not stop and k < len(tokens) and len(parts) < 3:
                    if "\n" in text[tokens[k - 1].end() : tokens[k].start()]:
                        break
                    word = tokens[k].group()
                    core = word.rstrip(',.;:!?»«"“”)')
                    if not _CAPITALISED.match(core) or core in _NOT_NAMES or _is_title(core):
                        break
                    parts.append(tokens[k])
                    if core != word:
                        break
                    k += 1
                if len(parts) >= 2 or (after_title and len(parts) == 1 and first in self.kb.first_names):
                    start = parts[0].start() + (len(parts[0].group()) - len(parts[0].group().lstrip('("„«»')))
                    last = parts[-1].group().rstrip(',.;:!?»«"“”)')
                    end = parts[-1].start() + len(last)
                    name = text[start:end]
                    if len(parts) >= 2 and free(start, end) and not name.isupper():
                        key = entity_key("Person", name)
                        mention = LinkedMention(start, end, name, key, "Person", "unknown", name)
                        out.append(mention)
                        taken.append((start, end))
                        surnames[last] = mention
                    i = k
                    continue
            i += 1
        if surnames:
            for match in _NAME_UNIT.finditer(text):
                word = match.group()
                for surface in (word, word[:-1] if word.endswith("s") else None):
                    if surface in surnames and free(match.start(), match.end()):
                        full = surnames[surface]
                        out.append(
                            LinkedMention(
                                match.start(), match.end(), word, full.entity, "Person", "unknown", full.label
                            )
                        )
                        taken.append((match.start(), match.end()))
                        break
        return out


if not Doc.has_extension("kg_mentions"):
    Doc.set_extension("kg_mentions", default=None)

_SPACY_LABELS: dict[EntityType, str] = {
    "Person": "PER",
    "Organization": "ORG",
    "Country": "LOC",
    "Location": "LOC",
    "Other": "MISC",
}


#: Where recognisers leave their spans: ``ents`` is doc.ents (spaCy's ner), others are doc.spans keys.
DEFAULT_NER_SOURCES = ("ents", "flair_ner")


@Language.factory("kg_linker", default_config={"kb_dir": None, "ner_sources": list(DEFAULT_NER_SOURCES)})
def make_linker(nlp: Language, name: str, kb_dir: str | None, ner_sources: list[str]) -> LinkerComponent:
    from kg.settings import get_settings

    return LinkerComponent(load_kb(Path(kb_dir) if kb_dir else get_settings().kb_dir), tuple(ner_sources))


class LinkerComponent:
    """Sets ``doc._.kg_mentions`` (character-level) and ``doc.ents`` (where token-aligned).

    Spans of statistical recognisers are read from `ner_sources` in order
    (absent ones are skipped); spaCy's own predictions stay available in
    ``doc.spans["ner"]`` after doc.ents is replaced by the linked mentions.
    """

    def __init__(self, kb: KnowledgeBase, ner_sources: tuple[str, ...] = DEFAULT_NER_SOURCES) -> None:
        self.kb = kb
        self.linker = Linker(kb)
        self.ner_sources = ner_sources

    def _recognised(self, doc: Doc) -> list[Recognised]:
        """Spans of the recognisers, minus one-word spans the tagger calls a common noun or adjective
        (``Regierung``, ``Volksrepublik``: a name is PROPN; untagged docs keep every span)."""
        out: list[Recognised] = []
        for source in self.ner_sources:
            spans: Sequence[Span] = doc.ents if source == "ents" else doc.spans.get(source, [])
            out.extend(
                (span.start_char, span.end_char, span.label_)
                for span in spans
                if not (len(span) == 1 and span[0].pos_ in _NOT_NAME_POS)
            )
        return out

    def __call__(self, doc: Doc) -> Doc:
        sentences = [(s.start_char, s.end_char) for s in doc.sents]
        recognised = self._recognised(doc)
        if doc.ents:
            doc.spans["ner"] = list(doc.ents)
        mentions = self.linker(doc.text, sentences, recognised)
        doc._.kg_mentions = mentions
        spans: list[Span] = []
        last_end = -1
        for m in mentions:
            if m.kind == "adjective":
                continue
            span = doc.char_span(m.start, m.end, label=_SPACY_LABELS[m.type], kb_id=m.entity)
            if span is not None and span.start >= last_end:
                spans.append(span)
                last_end = span.end
        doc.ents = spans
        return doc
