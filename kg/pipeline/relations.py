"""Relations, who claims them, and how firmly (component ``kg_relations``).

A rule-based extractor over linked mentions, sentence by sentence. It reads
the cues German (and English) news grammar gives without a parser:

- **attribution**: a speech verb next to a person or organisation (``sagte
  Rutte``, ``Stoltenberg erklärte``), ``so X``, ``nach Ruttes Worten``,
  ``laut X``, ``X zufolge``; a pronoun or a definite description (``sagte er``,
  ``warnte der Niederländer``) refers to the last speaker. Relations inside
  the sentence are claimed by that speaker; the speech act itself (warns,
  accuses, criticises, condemns) is the article's own voice;
- **relations**: trigger words (verbs and their nominalisations) with the
  arguments their syntax implies: subject = the first actor group of the
  clause (coordinations ``China, Nordkorea und der Iran`` distribute),
  object = the next group not in a foreign preposition; for nouns, the agent
  is an adjective (``russische Unterstützung``), a genitive (``Unterstützung
  Russlands``) or ``von X``, the patient follows the noun's preposition
  (``für``, ``gegen``, ``nach``, ``mit``, ``zwischen X und Y``);
- **offices** (``holdsRole``): a title before a name (``US-Außenminister
  Antony Blinken``) or in apposition (``Matthew Miller, der Sprecher des
  US-Außenministeriums``), its organisation from the title's compound,
  an adjective, a following genitive, or the KB's offices;
- **modality**: negation (``kein``, ``nicht`` but not ``nicht nur``),
  hedges (``möglich``, ``könnte``, ``soll``), plans (``will``, ``plant``).

Confidence is a rule-type prior (0.6-0.9), lowered for hedges: an ordering
for filtering, not a calibrated probability. Decisions:
docs/decisions/0008-relation-rules.md.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from kg.kb import KnowledgeBase, load_kb
from kg.model import (
    ACTOR_TYPES,
    RELATION_DOMAINS,
    RELATION_RANGES,
    EntityType,
    Modality,
    Relation,
    Statement,
    key_type,
)
from kg.pipeline.linker import TITLE, LinkedMention

_TOKEN = re.compile(r"\w+(?:[-‐]\w+)*-?|[^\w\s]")


_SPEECH = re.compile(
    r"(sagt|sagte|sagten|erklärt|erklärte|erklärten|warnt|warnte|warnten|betont|betonte|kommentierte|"
    r"kommentiert|schreibt|schrieb|meint|meinte|fügte|bekräftigte|unterstrich|äußerte|teilte|"
    r"berichtet|berichtete|bestätigt|bestätigte|kritisiert|kritisierte|glaubt|glaubte|vermutet|"
    r"befürchtet|befürchtete|bezeichnete|forderte|fordert|kündigte|verurteilte|verurteilten|hält|"
    r"sieht|said|says|warned|added|wrote|told|stated)$",
    re.IGNORECASE,
)
#: Verbs of saying proper: only these take their speaker after the verb ("sagte Rutte");
#: after "verurteilten" or "kritisierte" comes the object.
_SAY = re.compile(
    r"(sagt|sagte|sagten|erklärt|erklärte|erklärten|warnte|betont|betonte|kommentierte|kommentiert|schreibt|"
    r"schrieb|meint|meinte|fügte|bekräftigte|unterstrich|äußerte|teilte|berichtet|berichtete|so|said|says|"
    r"added|wrote|told|stated)$",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"(er|sie|he|she)$", re.IGNORECASE)
_PREPOSITIONS = frozenset(
    [
        "in",
        "im",
        "nach",
        "für",
        "mit",
        "gegen",
        "bei",
        "von",
        "vom",
        "an",
        "am",
        "zu",
        "zum",
        "zur",
        "dank",
        "aus",
        "über",
        "unter",
        "vor",
        "auf",
        "zwischen",
        "seit",
        "durch",
        "ohne",
        "um",
        "wegen",
        "trotz",
        "laut",
        "to",
        "for",
        "with",
        "against",
        "in",
        "from",
        "at",
        "by",
        "of",
        "on",
    ]
)
_DETERMINERS = frozenset(
    [
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einen",
        "einem",
        "eines",
        "einer",
        "the",
        "a",
        "an",
        "sein",
        "seine",
        "seinen",
        "seiner",
        "ihr",
        "ihre",
        "ihren",
        "ihrer",
    ]
)
_COORD = re.compile(r"^\s*(,|und|sowie|oder|and|or|&|, und|, sowie)\s*((der|die|das|den|dem|des|the)\s*)?$")
_NEGATION = re.compile(r"^(kein|keine|keinen|keinem|keiner|keines|nicht|nie|niemals|no|not|never)$", re.I)
_HEDGE = re.compile(
    r"^(möglich\w*|könnte\w*|könne|soll|sollen|solle|potenziell\w*|potentiell\w*|vermutlich|"
    r"wahrscheinlich|mutmaßlich\w*|angeblich\w*|offenbar|befürchte\w*|besorgt|might|may|could|"
    r"possibl\w*|allegedly)$",
    re.I,
)
_PLAN = re.compile(
    r"^(will|wollen|wolle|plant|planen|geplant\w*|beabsichtigt|kündigte|angekündigt|plans)$", re.I
)


@dataclass(frozen=True, slots=True)
class Trigger:
    relation: Relation
    pattern: re.Pattern[str]
    kind: str  # verb | noun | comm | receive | troops
    #: prepositions that introduce the object (verbs) or the patient (nouns)
    object_preps: frozenset[str] = frozenset()


def _t(relation: Relation, pattern: str, kind: str, preps: str = "") -> Trigger:
    return Trigger(relation, re.compile(f"^(?:{pattern})$"), kind, frozenset(preps.split()))


TRIGGERS: tuple[Trigger, ...] = (
    _t("supports", r"unterstütz(?:t|te|ten|e|en|end)|supports?|supported|backs?|backed", "verb"),
    _t(
        "supports",
        r"\w*[Uu]nterstützung|\w*[Mm]ilitärhilfe|Unterstützer\w*|Verfechter\w*|support",
        "noun",
        "für an bei der des for of",
    ),
    _t("supports", r"Seite|side", "side"),
    _t(
        "supplies",
        r"(?:be)?liefer(?:t|te|ten|e|n|st)|(?:be)?geliefert|supplies|supplied|provides?|provided",
        "verb",
        "an to",
    ),
    _t("supplies", r"\w*[Ll]ieferung(?:en)?", "noun", "an nach für to"),
    _t(
        "supplies",
        r"erhält|erhalte|erhielt|erhielten|bekommt|bekomme|bekam|bekamen|receives?|received",
        "receive",
    ),
    _t(
        "threatens",
        r"bedroh(?:t|te|ten|e|en)|gefährd(?:et|ete|eten|e|en)|threatens?|threatened|endangers?",
        "verb",
        "für",
    ),
    _t("threatens", r"Bedrohung|Gefahr|threat", "noun", "für for to"),
    _t(
        "attacks",
        r"greift|griff|griffen|angegriffen|angreifen|attackiert\w*|beschießt|beschoss|"
        r"bombardiert\w*|attacks?|attacked|invaded|invades?",
        "verb",
        "auf",
    ),
    _t(
        "attacks",
        r"Angriff|Angriffe|Angriffs|Angriffskrieg\w*|Invasion|Überfall\w*|Krieg|Krieges|Kriegs|"
        r"invasion|war",
        "noun",
        "gegen auf on against in",
    ),
    _t("meets", r"getroffen|trifft|traf|trafen|treffen|met|meets", "verb", "mit with"),
    _t(
        "meets",
        r"Treffen|Gespräch\w*|Verhandlungen|Unterredung|Gipfeltreffen|talks|meeting",
        "noun",
        "mit with",
    ),
    _t("visits", r"besucht\w*|bereist\w*|visits?|visited", "verb"),
    _t("visits", r"Besuch\w*|Staatsbesuch\w*|Reise|visit|trip", "noun", "in nach bei to"),
    _t("sanctions", r"sanktionier\w*|sanctions?|sanctioned", "verb"),
    _t("sanctions", r"\w*[Ss]anktionen|Strafmaßnahmen", "noun", "gegen against on"),
    _t("negotiatesWith", r"verhandel\w*|verhandelt\w*|negotiat\w*", "verb", "mit with"),
    _t(
        "partnerOf",
        r"Partnerschaft|\w*-?Kooperation|Zusammenarbeit|Beziehungen|Bündnis|Allianz|Verbündete[rn]?|"
        r"Partner|partnership|cooperation|alliance|ally",
        "noun",
        "mit zwischen with between",
    ),
    _t("memberOf", r"Mitglied|Mitglieds\w*|Mitgliedstaat\w*|member", "noun", "der des von of"),
    _t(
        "deploysTroopsTo",
        r"Truppen|Soldaten|Kämpfer|Streitkräfte|Kampftruppen|troops|soldiers|contingent",
        "troops",
        "nach in an zu für to into",
    ),
    _t("criticizes", r"kritisier(?:t|te|ten|en)|criticized|criticised|criticizes|criticises", "comm"),
    _t("condemns", r"verurteil(?:t|te|ten|en)|condemned|condemns?", "comm"),
    _t("warnsAbout", r"warnt|warnte|warnten|gewarnt|warned|warns", "comm", "vor about of"),
    _t("accuses", r"vorgeworfen|wirft|warf|werfen|bezichtig\w*|beschuldig\w*|accused|accuses?", "comm"),
)


@functools.lru_cache(maxsize=65_536)
def triggers_of(word: str) -> tuple[Trigger, ...]:
    """The triggers whose pattern matches `word`, in `TRIGGERS` order (words recur: cached)."""
    return tuple(trig for trig in TRIGGERS if trig.pattern.match(word))


_TROOP_MOVES = re.compile(
    r"^(geschickt|schickt|schicke|schickte|schickten|entsandt|entsendet|entsende|verlegt|verlegte|stationiert|"
    r"Verfügung|Einsatz|Einsatzes|Beteiligung|deployed|sent|deploys?)$",
    re.I,
)
#: Title compounds whose prefix names a country by convention of German news.
_TITLE_PREFIX_COUNTRY = {"Bundes": "Q183"}


@dataclass
class Tok:
    text: str
    start: int
    end: int
    mention: LinkedMention | None = None


@dataclass
class _Found:
    subject: str
    relation: Relation
    object: str
    modality: Modality
    confidence: float
    trigger: str
    communicative: bool = False
    role_label: str | None = None


def _tokens(text: str, offset: int, mentions: Sequence[LinkedMention]) -> list[Tok]:
    toks = [Tok(m.group(), offset + m.start(), offset + m.end()) for m in _TOKEN.finditer(text)]
    for tok in toks:
        for m in mentions:
            if m.start < tok.end and tok.start < m.end:
                tok.mention = m
                break
    return toks


class RelationExtractor:
    """Sentences + linked mentions -> statements. Pure given the KB."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def __call__(
        self, text: str, sentences: Sequence[tuple[int, int]], mentions: Sequence[LinkedMention]
    ) -> list[Statement]:
        statements: dict[tuple[str, str, str, str | None, int], Statement] = {}
        last_speaker: str | None = None
        last_person: str | None = None
        for start, end in sentences:
            sentence_mentions = [m for m in mentions if start <= m.start < end]
            toks = _tokens(text[start:end], start, sentence_mentions)
            speaker, speaker_mentions = self._speaker(toks, last_speaker or last_person)
            found = self._relations(toks, speaker_mentions) + self._roles(toks)
            if speaker is None:
                speaker = next((f.subject for f in found if f.communicative), None)
            for f in found:
                claimed = (
                    None
                    if (f.communicative and f.subject == speaker) or f.relation == "holdsRole"
                    else speaker
                )
                key = (f.subject, f.relation, f.object, claimed, start)
                if key in statements or not self._type_ok(f.relation, f.subject, f.object):
                    continue
                if f.subject == f.object:
                    continue
                statements[key] = Statement(
                    subject=f.subject,
                    relation=f.relation,
                    object=f.object,
                    speaker=claimed,
                    modality=f.modality,
                    confidence=f.confidence,
                    evidence_start=start,
                    evidence_end=end,
                    evidence=text[start:end],
                    trigger=f.trigger if f.role_label is None else f.role_label,
                )
            if speaker is not None:
                last_speaker = speaker
            persons = [m.entity for m in sentence_mentions if m.type == "Person"]
            if persons:
                last_person = persons[0] if speaker is None else speaker
        return list(statements.values())

    # -- attribution --------------------------------------------------------------------------

    def _speaker(self, toks: list[Tok], previous: str | None) -> tuple[str | None, set[int]]:
        """The entity the sentence attributes its content to, and the token indexes naming it."""
        n = len(toks)
        for i, tok in enumerate(toks):
            low = tok.text.lower()
            # nach Ruttes Worten / nach Angaben des X / laut X / aus Sicht der X / X zufolge
            if low in ("laut", "nach", "sicht") or (low == "so" and i > 0 and toks[i - 1].text == ","):
                window = toks[i + 1 : i + 5]
                if low == "nach" and not any(
                    t.text in ("Worten", "Angaben", "Ansicht", "Einschätzung") for t in window
                ):
                    continue
                for j, t in enumerate(window, start=i + 1):
                    if t.mention and t.mention.type in ACTOR_TYPES and t.mention.kind != "adjective":
                        return t.mention.entity, {j}
                    if low == "so" and _PRONOUN.match(t.text) and previous:
                        return previous, {j}
            if low == "zufolge" and i > 0 and toks[i - 1].mention:
                return toks[i - 1].mention.entity, {i - 1}  # type: ignore[union-attr]
        for i, tok in enumerate(toks):
            if not _SPEECH.match(tok.text):
                continue
            # "Rutte erklärte" / "Bonnie Jenkins, US-Staatssekretärin ..., glaubt": subject before the verb
            before = [
                j
                for j in range(i)
                if (m := toks[j].mention) is not None
                and m.type in ("Person", "Organization")
                and m.kind != "adjective"
                and not self._in_quote(toks, j)
            ]
            if before and (
                i - before[-1] <= 2 or (before[0] <= 1 and "," in {t.text for t in toks[before[0] : i]})
            ):
                j = before[-1] if i - before[-1] <= 2 else before[0]
                return toks[j].mention.entity, {j}  # type: ignore[union-attr]
            # "sagte Nato-Generalsekretär Mark Rutte" / "sagte er" / "warnte der Niederländer"
            for j in range(i + 1, min(n, i + 6) if _SAY.match(tok.text) else i + 1):
                t = toks[j]
                m = t.mention
                if (
                    m is not None
                    and m.type in ("Person", "Organization", "Country")
                    and m.kind != "adjective"
                    and (m.type == "Person" or j + 1 >= n or not toks[j + 1].mention)
                ):
                    if TITLE.search(t.text) and j + 1 < n and toks[j + 1].mention:
                        continue
                    return m.entity, {j}
                if _PRONOUN.match(t.text) and j == i + 1 and previous:
                    return previous, set()
                if (
                    t.text.lower() in ("der", "die")
                    and j == i + 1
                    and j + 1 < n
                    and toks[j + 1].text[:1].isupper()
                    and not toks[j + 1].mention
                    and previous
                ):
                    return previous, set()
        return None, set()

    @staticmethod
    def _in_quote(toks: list[Tok], j: int) -> bool:
        opened = False
        for t in toks[:j]:
            if t.text in ("«", "„", "“", "»", '"', "”"):
                opened = not opened
        return opened

    # -- relations ----------------------------------------------------------------------------

    def _owner(self, entity: str) -> str:
        return self.kb.owners.get(entity, entity)

    def _groups(
        self, toks: list[Tok], lo: int, hi: int, skip: set[int]
    ) -> list[tuple[int, list[LinkedMention]]]:
        """Coordinated mention groups in toks[lo:hi] as (index of first token, mentions)."""
        groups: list[tuple[int, list[LinkedMention]]] = []
        last_end: int | None = None
        seen: set[int] = set()
        for i in range(lo, hi):
            m = toks[i].mention
            if m is None or i in skip or id(m) in seen or m.kind == "adjective":
                continue
            if TITLE.search(toks[i].text) and toks[i].text != m.text:
                continue  # "Nato" inside "Nato-Generalsekretär" names the office, not an actor
            seen.add(id(m))
            between = " ".join(t.text for t in toks[last_end:i]) if last_end is not None else None
            if groups and between is not None and _COORD.match(between):
                groups[-1][1].append(m)
            else:
                groups.append((i, [m]))
            last_end = i + 1
            while last_end < hi and toks[last_end].mention is m:
                last_end += 1
        return groups

    @staticmethod
    def _prep_before(toks: list[Tok], i: int) -> str | None:
        for j in range(i - 1, max(-1, i - 4), -1):
            word = toks[j].text.lower()
            if word in _PREPOSITIONS:
                return word
            if (word not in _DETERMINERS and not re.match(r"^\w+(e|en|er|es|em)$", word)) or toks[j].mention:
                return None
        return None

    def _modality(self, toks: list[Tok], lo: int, hi: int, at: int) -> tuple[Modality, float]:
        window = toks[max(lo, at - 6) : min(hi, at + 6)]
        words = [t.text for t in window]
        for k, w in enumerate(words):
            if _NEGATION.match(w) and not (k + 1 < len(words) and words[k + 1].lower() == "nur"):
                return "negated", 0.9
        clause = [t.text for t in toks[lo:hi]]
        if any(_HEDGE.match(w) for w in clause):
            return "hedged", 0.8
        if any(_PLAN.match(w) for w in clause):
            return "planned", 0.9
        return "asserted", 1.0

    def _clauses(self, toks: list[Tok]) -> list[tuple[int, int]]:
        """Split at punctuation that ends a clause, keeping coordinated lists together."""
        cuts = [0]
        for i, t in enumerate(toks):
            if t.text in (";", ":", "–", "—", "(", ")", "«", "»", "„", "“", '"', "”") or (
                t.text == ","
                and not (i > 0 and toks[i - 1].mention and i + 1 < len(toks) and toks[i + 1].mention)
                and not (i + 1 < len(toks) and toks[i + 1].text.lower() in ("sondern",))
            ):
                cuts.append(i)
        cuts.append(len(toks))
        return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]

    def _relations(self, toks: list[Tok], speaker_idx: set[int]) -> list[_Found]:
        found: list[_Found] = []
        clauses = self._clauses(toks)
        sentence_subject: list[LinkedMention] | None = None
        for lo, hi in clauses:
            groups = self._groups(toks, lo, hi, speaker_idx)
            free = [(i, g) for i, g in groups if self._prep_before(toks, i) is None]
            subject = free[0] if free else None
            if sentence_subject is None and subject is not None:
                sentence_subject = subject[1]
            for at in range(lo, hi):
                for trig in triggers_of(toks[at].text):
                    found.extend(
                        self._apply(
                            trig, toks, lo, hi, at, groups, subject, sentence_subject, speaker_idx, found
                        )
                    )
        return found

    def _apply(
        self,
        trig: Trigger,
        toks: list[Tok],
        lo: int,
        hi: int,
        at: int,
        groups: list[tuple[int, list[LinkedMention]]],
        subject: tuple[int, list[LinkedMention]] | None,
        sentence_subject: list[LinkedMention] | None,
        speaker_idx: set[int],
        out_of_clause: list[_Found],
    ) -> list[_Found]:
        modality, factor = self._modality(toks, lo, hi, at)
        out: list[_Found] = []

        def emit(
            subjects: Sequence[LinkedMention],
            objects: Sequence[LinkedMention],
            confidence: float,
            communicative: bool = False,
        ) -> None:
            for s in subjects:
                for o in objects:
                    s_key = (
                        self._owner(s.entity)
                        if s.type not in ACTOR_TYPES or trig.kind == "troops"
                        else s.entity
                    )
                    o_key = o.entity
                    if trig.relation in ("deploysTroopsTo", "attacks") or (
                        o.type == "Organization"
                        and o.entity in self.kb.owners
                        and trig.relation != "memberOf"
                    ):
                        o_key = self._owner(o.entity) if o.type != "Country" else o.entity
                    if s_key != o_key:
                        out.append(
                            _Found(
                                s_key,
                                trig.relation,
                                o_key,
                                modality,
                                round(confidence * factor, 2),
                                toks[at].text,
                                communicative,
                            )
                        )

        after = [(i, g) for i, g in groups if i > at]
        word = toks[at].text
        if trig.kind in ("verb", "comm"):
            subj = subject if subject and subject[0] != at else None
            if trig.kind == "verb" and at > lo and toks[at - 1].text.lower() == "zu":
                subj = None
                for prev in out_of_clause:
                    if prev.relation == "accuses":
                        target = next(
                            (t.mention for t in toks if t.mention and t.mention.entity == prev.object), None
                        )
                        subj = (-1, [target] if target else [])
                if subj is None or not subj[1]:
                    return out
            if subj is None and trig.kind == "comm" and speaker_idx:
                idx = next(iter(speaker_idx))
                said_by = toks[idx].mention
                subj = (idx, [said_by]) if said_by is not None else None
            if subj is None and sentence_subject is not None:
                subj = (-1, sentence_subject)
            if subj is None:
                return out
            objects = [
                (i, g)
                for i, g in groups
                if i != subj[0]
                and (
                    self._prep_before(toks, i) is None
                    or self._prep_before(toks, i) in trig.object_preps
                    or (trig.kind == "comm" and self._prep_before(toks, i) in ("vor", "about", "of"))
                )
            ]
            if trig.kind == "comm":
                objects = [(i, g) for i, g in objects if i > at] or [
                    (i, g) for i, g in objects if i > subj[0]
                ]
            else:
                objects = [(i, g) for i, g in objects if i > subj[0]]
            if not objects:
                return out
            emit(subj[1], objects[0][1], 0.8 if trig.kind == "comm" else 0.75, trig.kind == "comm")
        elif trig.kind == "side":
            nxt = toks[at + 1].mention if at + 1 < hi else None
            if (
                subject is not None
                and nxt is not None
                and nxt.kind != "adjective"
                and at > 1
                and toks[at - 2].text.lower() in ("auf", "on")
            ):
                emit(subject[1], [nxt], 0.7)
        elif trig.kind == "receive":
            if subject is None:
                return out
            givers = [
                (i, g) for i, g in after if self._prep_before(toks, i) in ("von", "dank", "aus", "from")
            ]
            if givers:
                emit(givers[0][1], subject[1], 0.7)
        elif trig.kind == "troops":
            if not any(_TROOP_MOVES.match(t.text) for t in toks[lo:hi]):
                return out
            inside = toks[at].mention
            agents = (
                ([inside] if inside is not None and inside.kind != "adjective" else None)
                or self._adjective_before(toks, at)
                or (subject[1] if subject else None)
            )
            if agents is None:
                return out
            dest = None
            for i in range(at + 1, hi):
                m = toks[i].mention
                if (
                    m
                    and self._prep_before(toks, i) in trig.object_preps
                    and m.entity not in {a.entity for a in agents}
                ):
                    dest = [m]
                    break
            if dest:
                emit(agents, dest, 0.7)
        else:  # noun
            agents = self._adjective_before(toks, at)
            genitive: list[LinkedMention] | None = None
            next1 = toks[at + 1].mention if at + 1 < hi else None
            next2 = toks[at + 2].mention if at + 2 < hi else None
            if next1 is not None and next1.kind != "adjective":
                genitive = [next1]
            elif next2 is not None and toks[at + 1].text in ("des", "der", "von", "by", "of"):
                genitive = [next2]
            possessor = toks[at - 1].mention if at > lo else None
            if (
                possessor is not None
                and possessor.text.endswith("s")
                and possessor.kind != "adjective"
                and toks[at - 1].text == possessor.text
            ):
                agents = agents or [possessor]  # "Putins Reise"
            compound = toks[at].mention
            if (
                compound
                and compound.kind != "adjective"
                and (word.startswith(compound.text + "-") or compound.entity in self.kb.owners)
            ):
                agents = agents or [compound]
            patients = None
            if trig.relation == "partnerOf":
                pair = self._between(toks, at, hi)
                if pair:
                    emit([pair[0]], [pair[1]], 0.65)
                    return out
            for i, g in after:
                if i >= hi:
                    break
                prep = self._prep_before(toks, i)
                if prep in trig.object_preps and (
                    genitive is None or g[0] is not genitive[0] or prep in ("von",)
                ):
                    patients = g
                    break
            if agents is None and genitive is not None and patients is not None:
                agents = genitive
            elif patients is None and genitive is not None and agents is not None:
                patients = genitive
            if agents is None and patients is not None:
                # the nearest actor group before the noun that is in no preposition: the clause
                # subject ("Südkorea ist ein Unterstützer der Ukraine") or a bare object in front
                # of it ("Die Nato hat Russland Unterstützung ... vorgeworfen")
                free_before = [g for i, g in groups if i < at and self._prep_before(toks, i) is None]
                if free_before:
                    agents = free_before[-1]
            if agents is None and trig.relation in ("partnerOf", "meets") and subject is not None:
                agents = subject[1]
            if agents and patients:
                emit(agents, patients, 0.65)
        return out

    @staticmethod
    def _adjective_before(toks: list[Tok], at: int) -> list[LinkedMention] | None:
        for j in range(at - 1, max(-1, at - 3), -1):
            m = toks[j].mention
            if m is not None and m.kind == "adjective":
                return [m]
            if not re.match(r"^\w+(e|en|er|es|em)$", toks[j].text):
                return None
        return None

    @staticmethod
    def _between(toks: list[Tok], at: int, hi: int) -> tuple[LinkedMention, LinkedMention] | None:
        """``zwischen X und Y`` or ``X-gen mit Y`` after a partnership noun."""
        if at + 1 < hi and toks[at + 1].text.lower() in ("zwischen", "between"):
            ms = [t.mention for t in toks[at + 2 : hi] if t.mention and t.mention.kind != "adjective"]
            if len(ms) >= 2:
                return ms[0], ms[1]
        if (
            at + 3 < hi
            and toks[at + 1].mention
            and toks[at + 2].text.lower() in ("mit", "with")
            and toks[at + 3].mention
        ):
            return toks[at + 1].mention, toks[at + 3].mention  # type: ignore[return-value]
        return None

    def _entity_type(self, key: str) -> EntityType:
        entity = self.kb.entities.get(key)
        return entity.type if entity else (key_type(key) or "Other")

    def _type_ok(self, relation: Relation, subject: str, object_: str) -> bool:
        """Whether the ontology allows these entities' types as the relation's subject and object."""
        return (
            self._entity_type(subject) in RELATION_DOMAINS[relation]
            and self._entity_type(object_) in RELATION_RANGES[relation]
        )

    # -- offices ------------------------------------------------------------------------------

    def _roles(self, toks: list[Tok]) -> list[_Found]:
        found: list[_Found] = []
        n = len(toks)
        for i, tok in enumerate(toks):
            m = tok.mention
            if m is None or m.type != "Person" or (i > 0 and toks[i - 1].mention is m):
                continue
            title_at = None
            if i > 0 and TITLE.search(toks[i - 1].text) and toks[i - 1].mention is not m:
                title_at = i - 1
            else:  # apposition: "Matthew Miller, der Sprecher des ..."
                end = i
                while end + 1 < n and toks[end + 1].mention is m:
                    end += 1
                if end + 1 < n and toks[end + 1].text == ",":
                    for j in range(end + 2, min(n, end + 5)):
                        if TITLE.search(toks[j].text):
                            title_at = j
                            break
                        if toks[j].text.lower() not in _DETERMINERS and not re.match(
                            r"^\w+(e|en|er|es)$", toks[j].text
                        ):
                            break
            if title_at is None:
                continue
            title = toks[title_at].text
            org = self._role_org(toks, title_at, m)
            if org is None:
                continue
            base = re.sub(r"^.*-", "", title)
            found.append(_Found(m.entity, "holdsRole", org, "asserted", 0.9, title, role_label=base))
        return found

    def _role_org(self, toks: list[Tok], at: int, person: LinkedMention) -> str | None:
        title = toks[at].text
        inner = toks[at].mention
        if (
            inner is not None
            and inner is not person
            and inner.type in ("Organization", "Country")
            and title.startswith(inner.text)
        ):
            return inner.entity
        for prefix, country in _TITLE_PREFIX_COUNTRY.items():
            if title.startswith(prefix):
                return country
        for j in range(at - 1, max(-1, at - 3), -1):
            m = toks[j].mention
            if m is not None and m.kind == "adjective":
                return m.entity
        if (at + 2 < len(toks) and toks[at + 1].text.lower() in ("des", "der", "von", "für", "of")) or (
            at + 1 < len(toks) and toks[at + 1].text.lower() in ("des", "der")
        ):
            for j in range(at + 1, min(len(toks), at + 6)):
                m = toks[j].mention
                if m is not None and m.type in ("Organization", "Country") and m.kind != "adjective":
                    return m.entity
        base = re.sub(r"^.*-", "", title).lower()
        stem = re.sub(r"(in|innen|en|n|s)$", "", base)
        for role in self.kb.roles_by_person.get(person.entity, []):
            if role.org and stem and stem in role.title_de.lower():
                return role.org
        return None


if not Doc.has_extension("kg_statements"):
    Doc.set_extension("kg_statements", default=None)


@Language.factory("kg_relations", default_config={"kb_dir": None})
def make_relations(nlp: Language, name: str, kb_dir: str | None) -> RelationComponent:
    from kg.settings import get_settings

    return RelationComponent(load_kb(Path(kb_dir) if kb_dir else get_settings().kb_dir))


class RelationComponent:
    """Sets ``doc._.kg_statements`` from ``doc._.kg_mentions``."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.extractor = RelationExtractor(kb)

    def __call__(self, doc: Doc) -> Doc:
        sentences = [(s.start_char, s.end_char) for s in doc.sents]
        doc._.kg_statements = self.extractor(doc.text, sentences, doc._.kg_mentions or [])
        return doc
