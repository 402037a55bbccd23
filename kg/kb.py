"""The knowledge base: entities with Wikidata ids, names, aliases, offices.

Loaded from ``data/kb/`` (derived from the project's KB seed; see
data/README.md). The linker asks it one question: which entities can this
surface string name? `KnowledgeBase.surface_forms` answers it with every form
the KB implies, German inflection included (genitive ``Russlands``,
adjectives ``russische``/``nordkoreanischen``), each tagged with how it names
the entity (`FormKind`) so the linker can apply the context rules in
docs/decisions/0007-linking.md.

Cost: building the index for the seed KB (1,244 entities) takes ~50 ms and a
few MB; done once per pipeline.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from kg.errors import ConfigError
from kg.mapping import entity_key
from kg.model import EntityType

FormKind = Literal["label", "alias", "surname", "adjective", "generic"]

_KB_TYPES: dict[str, EntityType] = {
    "Person": "Person",
    "Organization": "Organization",
    "Ministry": "Organization",
    "Country": "Country",
    "Location": "Location",
    "Other": "Other",
}

#: Endings of German adjectives (attributive, all cases/genders).
_ADJ_ENDINGS = ("", "e", "en", "er", "es", "em")
_GENERIC_PROGRAMME = re.compile(r"(programm|abkommen|vertrag)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class KBEntity:
    key: str
    type: EntityType
    label_en: str
    label_de: str
    qid: str | None
    aliases_de: tuple[str, ...]
    aliases_en: tuple[str, ...]
    adjectives_de: tuple[str, ...]
    description: str | None
    kb_type: str

    @property
    def label(self) -> str:
        return self.label_de or self.label_en


@dataclass(frozen=True, slots=True)
class Role:
    """One office: `person` held `title` in `org` from `start` to `end` (ISO dates or None)."""

    person: str
    title_de: str
    title_en: str
    org: str | None
    start: str | None
    end: str | None


@dataclass(frozen=True, slots=True)
class SurfaceForm:
    entity: str
    kind: FormKind


@dataclass
class KnowledgeBase:
    """Entities, offices and the surface-form index over them."""

    entities: dict[str, KBEntity]
    roles: tuple[Role, ...] = ()
    first_names: frozenset[str] = frozenset()
    surface_forms: dict[str, list[SurfaceForm]] = field(default_factory=dict)
    roles_by_person: dict[str, list[Role]] = field(default_factory=dict)
    #: owner country key of programme-like entities ("nordkoreanisches Atomprogramm" -> North Korea)
    owners: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.surface_forms:
            self.surface_forms = _index(self.entities.values())
        if not self.roles_by_person:
            by_person: dict[str, list[Role]] = defaultdict(list)
            for role in self.roles:
                by_person[role.person].append(role)
            self.roles_by_person = dict(by_person)
        if not self.owners:
            self.owners = _owners(self.entities.values())

    def candidates(self, surface: str) -> list[SurfaceForm]:
        return self.surface_forms.get(surface, [])


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split("|") if part.strip())


def _inflect_noun_phrase(phrase: str) -> set[str]:
    """German inflected variants of a name: genitive -s, adjective endings, plural/dative of a head noun."""
    words = phrase.split(" ")
    variants: set[str] = {phrase}
    # Adjectives inside the phrase ("nordkoreanisches Atomprogramm"): every ending.
    adj_positions = [i for i, w in enumerate(words[:-1]) if re.search(r"(isch|ische[snmr]?)$", w)]
    heads = {words[-1]}
    last = words[-1]
    if last[-1:].isalpha() and not last.endswith(("s", "ß", "x", "z")):
        heads.add(last + "s")
    if _GENERIC_PROGRAMME.search(last):
        heads |= {last + "s", last + "e", last + "en", last + "es"}
    bases = [words[:-1]]
    for i in adj_positions:
        stem = re.sub(r"(e[snmr]?)$", "", words[i]) if not words[i].endswith("isch") else words[i]
        new_bases = []
        for base in bases:
            for ending in _ADJ_ENDINGS:
                changed = list(base)
                changed[i] = stem + ending
                new_bases.append(changed)
        bases = new_bases
    for base in bases:
        for head in heads:
            variants.add(" ".join([*base, head]))
    return variants


def _is_surname_alias(alias: str, label: str) -> bool:
    parts = label.split()
    return len(parts) > 1 and " " not in alias and alias.rstrip("s") in [*parts[1:], parts[-1]]


def _index(entities: Iterable[KBEntity]) -> dict[str, list[SurfaceForm]]:
    index: dict[str, list[SurfaceForm]] = defaultdict(list)

    def add(surface: str, entity: KBEntity, kind: FormKind) -> None:
        if len(surface) < 2:
            return
        existing = index[surface]
        if all(f.entity != entity.key for f in existing):
            existing.append(SurfaceForm(entity.key, kind))

    for entity in entities:
        for label in {entity.label_de, entity.label_en} - {""}:
            for form in _inflect_noun_phrase(label):
                add(form, entity, "label")
                if form[:1].islower():
                    add(form[:1].upper() + form[1:], entity, "label")
        for alias in (*entity.aliases_de, *entity.aliases_en):
            kind: FormKind = "alias"
            if entity.type == "Person" and _is_surname_alias(alias, entity.label_en or entity.label_de):
                kind = "surname"
            elif (
                alias[:1].isupper()
                and alias.isalpha()
                and alias.lower() == alias.lower().capitalize().lower()
            ):
                kind = "alias"
            if entity.type == "Other" and _GENERIC_PROGRAMME.search(alias) and " " not in alias:
                kind = "generic"
            for form in _inflect_noun_phrase(alias) if " " in alias or kind == "generic" else {alias}:
                add(form, entity, kind)
                if form[:1].islower():
                    add(form[:1].upper() + form[1:], entity, kind)
        for adjective in entity.adjectives_de:
            for ending in _ADJ_ENDINGS:
                add(adjective + ending, entity, "adjective")
                add(adjective[:1].upper() + adjective[1:] + ending, entity, "adjective")
    return dict(index)


def _owners(entities: Iterable[KBEntity]) -> dict[str, str]:
    """Programme, armed force or war -> the country it belongs to.

    Read off the country adjective in the German label (``nordkoreanisches
    Atomprogramm``, ``Russischer Überfall ...``) or an English description
    ending in ``of <country>`` (``armed forces of North Korea``).
    """
    entities = list(entities)
    by_adjective: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for entity in entities:
        if entity.type == "Country":
            by_name[entity.label_en] = entity.key
            for adjective in entity.adjectives_de:
                by_adjective[adjective.lower()] = entity.key
    owners: dict[str, str] = {}
    for entity in entities:
        if entity.type not in ("Other", "Organization"):
            continue
        for word in entity.label_de.split():
            low = word.lower()
            stem = re.sub(r"(e[snmr]?)$", "", low) if not low.endswith("isch") else low
            if stem in by_adjective:
                owners[entity.key] = by_adjective[stem]
        match = re.search(r"\bof (?:the )?([A-Z][\w ]+)$", entity.description or "")
        if entity.key not in owners and match and match.group(1) in by_name:
            owners[entity.key] = by_name[match.group(1)]
    return owners


def parse_entities(rows: Iterable[dict[str, str]]) -> dict[str, KBEntity]:
    """KB rows (as csv.DictReader gives them) -> entities by key. Pure."""
    entities: dict[str, KBEntity] = {}
    for row in rows:
        kb_type = row["type"]
        if kb_type not in _KB_TYPES:
            raise ConfigError(
                f"knowledge base: unknown type {kb_type!r} for {row.get('label_en')!r}; "
                f"expected one of {sorted(_KB_TYPES)}"
            )
        entity_type = _KB_TYPES[kb_type]
        qid = row["qid"].strip() or None
        label_en, label_de = row["label_en"].strip(), row["label_de"].strip()
        key = qid or entity_key(entity_type, label_en or label_de)
        entities[key] = KBEntity(
            key=key,
            type=entity_type,
            label_en=label_en,
            label_de=label_de,
            qid=qid,
            aliases_de=_split(row["aliases_de"]),
            aliases_en=_split(row["aliases_en"]),
            adjectives_de=_split(row["adjective_de"]),
            description=row.get("description_en") or None,
            kb_type=kb_type,
        )
    return entities


def parse_roles(rows: Iterable[dict[str, str]], entities: dict[str, KBEntity]) -> tuple[Role, ...]:
    """Office rows -> roles keyed like the entities (persons without QID by their name). Pure."""
    by_label = {(e.type, e.label_en): e.key for e in entities.values()}
    roles = []
    for row in rows:
        person = row["person_qid"].strip() or by_label.get(("Person", row["person_label_en"].strip()))
        if person is None:
            continue
        org = row["org_or_country_qid"].strip() or None
        roles.append(
            Role(
                person,
                row["role_de"].strip(),
                row["role_en"].strip(),
                org,
                row["start"].strip() or None,
                row["end"].strip() or None,
            )
        )
    return tuple(roles)


def _read_tsv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    except FileNotFoundError as e:
        raise ConfigError(
            f"knowledge base file {path} not found; expected the KB in data/kb/ "
            f"(set KG_DATA_DIR to the folder holding kb/)"
        ) from e


@lru_cache(maxsize=4)
def load_kb(kb_dir: Path) -> KnowledgeBase:
    """Read ``entities.tsv``, ``roles.tsv`` and ``first_names.txt`` from `kb_dir`.

    Cached per folder: the linker and the relation extractor share one KB.
    """
    entities = parse_entities(_read_tsv(kb_dir / "entities.tsv"))
    roles = parse_roles(_read_tsv(kb_dir / "roles.tsv"), entities)
    first_names = {
        entity.label_en.split()[0]
        for entity in entities.values()
        if entity.type == "Person" and " " in entity.label_en
    }
    names_file = kb_dir / "first_names.txt"
    if names_file.exists():
        lines = names_file.read_text(encoding="utf-8").splitlines()
        first_names |= {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    return KnowledgeBase(entities=entities, roles=roles, first_names=frozenset(first_names))
