"""JSON views for applications: entity search, an entity with its relations, statements, articles.

Thin routes over `kg.views`, which owns the SPARQL; the answers are its
dataclasses, documented in the OpenAPI schema at ``/docs``. Every query runs
with the service's timeout (``KG_QUERY_TIMEOUT_S``). Entities are named by
their key (``Q57792``, ``person/kurt-campbell``: the end of the entity IRI)
or, where a full IRI is easier, by ``iri=``. Decision:
docs/decisions/0013-web-ui-and-rest.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SettingsDep, StoreDep
from api.errors import ApiError
from kg import views
from kg.model import Relation

router = APIRouter(prefix="/api", tags=["views"])

LangQuery = Annotated[
    views.Language, Query(description="Language of the labels: de or en; the other one where it is missing.")
]
EntityParam = Annotated[
    str | None,
    Query(description="An entity key (`Q57792`, `person/kurt-campbell`) or its full IRI."),
]


def _entity_iri(value: str, *, base_iri: str, what: str) -> str:
    """A key or IRI given by the client, as a checked IRI (400 when it is not one)."""
    iri = views.entity_iri_of(value.strip(), base_iri=base_iri)
    if not iri or any(c in iri for c in '<>" {}|\\^`') or any(ord(c) < 0x21 for c in iri):
        raise ApiError(
            400,
            "bad_request",
            f"{what}={value!r} is neither an entity key (Q57792, person/kurt-campbell) nor an IRI",
        )
    return iri


def _detail(store: StoreDep, iri: str, *, lang: views.Language, settings: SettingsDep) -> views.EntityDetail:
    found = views.entity(
        store, iri, lang=lang, base_iri=settings.base_iri, timeout_s=settings.query_timeout_s
    )
    if found is None:
        raise ApiError(
            404,
            "not_found",
            f"no entity {iri} in the graph; find one with /api/entities?q=<name>",
        )
    return found


@router.get("/entities", name="search_entities", summary="Search entities by name")
def search_entities(
    store: StoreDep,
    settings: SettingsDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=views.MAX_SEARCH_LENGTH,
            description="Start of a German or English name or alias, any case: `rutte`, `Moskau`.",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=100, description="At most this many entities.")] = 10,
    lang: LangQuery = "de",
) -> list[views.EntityHit]:
    """Entities whose label or alias starts with `q`; exact names first, then prefixes, then word starts.

    Aliases are the names the articles used for an entity ("Moskau" for
    Russia). Within one rank, entities that more articles mention come first.
    """
    return views.search_entities(
        store, q, limit=limit, lang=lang, base_iri=settings.base_iri, timeout_s=settings.query_timeout_s
    )


@router.get(
    "/entities/{key:path}",
    name="entity",
    summary="An entity with its relations",
    responses={404: {"description": "No such entity in the graph"}},
)
def get_entity(
    store: StoreDep, settings: SettingsDep, key: str, lang: LangQuery = "de"
) -> views.EntityDetail:
    """The entity with key `key` (``Q57792``), its relations by relation and direction, and its claims.

    Each counterpart comes with its label, type, Wikidata id, and the number
    of statements and articles behind the link; claims are the statements
    the entity is reported to have made (`kg:claimedBy`). Get the statements
    behind a link from /api/statements.
    """
    return _detail(
        store, _entity_iri(key, base_iri=settings.base_iri, what="key"), lang=lang, settings=settings
    )


@router.get(
    "/entity",
    name="entity_by_iri",
    summary="An entity with its relations, by IRI",
    responses={404: {"description": "No such entity in the graph"}},
)
def get_entity_by_iri(
    store: StoreDep,
    settings: SettingsDep,
    iri: Annotated[str, Query(description="The entity's IRI.")],
    lang: LangQuery = "de",
) -> views.EntityDetail:
    """As /api/entities/{key}, for an entity named by its full IRI."""
    return _detail(
        store, _entity_iri(iri, base_iri=settings.base_iri, what="iri"), lang=lang, settings=settings
    )


@router.get("/statements", name="statements", summary="The statements behind a relation")
def get_statements(
    store: StoreDep,
    settings: SettingsDep,
    subject: EntityParam = None,
    relation: Annotated[Relation | None, Query(description="A relation name of the ontology.")] = None,
    object: EntityParam = None,
    speaker: Annotated[
        str | None, Query(description="Only statements attributed to this entity (key or IRI).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many statements.")] = 100,
    lang: LangQuery = "de",
) -> list[views.StatementView]:
    """Statements with the given subject, relation, object and speaker (at least one), newest first.

    Each with its speaker (null: the article's own voice), modality,
    confidence, evidence sentence and article (IRI, title, URL, date).
    """
    if subject is None and relation is None and object is None and speaker is None:
        raise ApiError(400, "bad_request", "give at least one of subject=, relation=, object= or speaker=")
    base = settings.base_iri

    def iri(value: str | None, what: str) -> str | None:
        return _entity_iri(value, base_iri=base, what=what) if value is not None else None

    return views.statements(
        store,
        subject=iri(subject, "subject"),
        relation=relation,
        object=iri(object, "object"),
        speaker=iri(speaker, "speaker"),
        limit=limit,
        lang=lang,
        base_iri=base,
        timeout_s=settings.query_timeout_s,
    )


@router.get("/articles", name="articles", summary="Articles with their statement counts")
def get_articles(
    store: StoreDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many articles.")] = 100,
    offset: Annotated[int, Query(ge=0, description="Skip this many (for paging).")] = 0,
) -> list[views.ArticleSummary]:
    """Articles, newest first (undated last), with the number of statements and entities read from each."""
    return views.articles(store, limit=limit, offset=offset, timeout_s=settings.query_timeout_s)
