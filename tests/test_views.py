"""kg.views and the /api routes that serve it, on two hand-made articles; the web pages' HTML and assets."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.web import STATIC_DIR
from kg.errors import QueryError
from kg.mapping import entity_iri, graph_iri, to_graph
from kg.model import Article, Entity, Extraction, Mention, Statement
from kg.store import OxigraphStore, open_store
from kg.views import (
    EntityHit,
    articles,
    entity,
    entity_iri_of,
    entity_key_of,
    search_entities,
    statements,
)

B = "https://w3id.org/newskg/id/"
EXTRACTOR = "newskg-rules-0.1.0"

TEXT_1 = "Rutte wirft Russland vor, Nordkorea zu unterstützen. Russland liefert keine Waffen an Nordkorea."
TEXT_2 = (
    "Das Institute for the Study of War sagt, Russland unterstützt Nordkorea. "
    "Die Nordkoreanische Volksarmee droht Rutte und Korea."
)
ARTICLE_1 = Article(
    text=TEXT_1,
    name="001.txt",
    url="https://example.org/rutte",
    title="Rutte: Russland unterstützt Nordkorea",
    date="2024-12-04",
    language="de",
)
ARTICLE_2 = Article(text=TEXT_2, name="002.txt", language="de")  # no date, no URL, no title

RUTTE = Entity(
    "Q57792", "Person", "Mark Rutte", "Mark Rutte", "Mark Rutte", "Q57792", "Secretary General of NATO"
)
RUSSIA = Entity("Q159", "Country", "Russland", "Russland", "Russia", "Q159")
NORTH_KOREA = Entity("Q423", "Country", "Nordkorea", "Nordkorea", "North Korea", "Q423")
ISW = Entity("organization/institute-for-the-study-of-war", "Organization", "Institute for the Study of War")
ARMY = Entity("organization/nordkoreanische-volksarmee", "Organization", "Nordkoreanische Volksarmee")
KOREA = Entity("location/korea", "Location", "Korea")


def mention(entity: Entity, text: str, name: str, start: int = 0) -> Mention:
    at = text.index(name, start)
    return Mention(entity.key, at, at + len(name), name)


def sentence(text: str, n: int) -> tuple[int, int, str]:
    begin = 0 if n == 0 else text.index(". ") + 2
    end = text.index(".", begin) + 1
    return begin, end, text[begin:end]


S1 = sentence(TEXT_1, 0)
S2 = sentence(TEXT_1, 1)
T1 = sentence(TEXT_2, 0)
T2 = sentence(TEXT_2, 1)
EXTRACTION_1 = Extraction(
    article=ARTICLE_1,
    entities=(RUTTE, RUSSIA, NORTH_KOREA),
    mentions=(
        mention(RUTTE, TEXT_1, "Rutte"),
        mention(RUSSIA, TEXT_1, "Russland"),
        mention(NORTH_KOREA, TEXT_1, "Nordkorea"),
    ),
    statements=(
        Statement("Q159", "supports", "Q423", "Q57792", "asserted", 0.8, *S1, "unterstützen"),
        Statement("Q57792", "accuses", "Q159", None, "asserted", 0.7, *S1, "wirft"),
        Statement("Q159", "supplies", "Q423", None, "negated", 0.75, *S2, "liefert"),
    ),
    extractor=EXTRACTOR,
)
EXTRACTION_2 = Extraction(
    article=ARTICLE_2,
    entities=(ISW, RUSSIA, NORTH_KOREA, ARMY, RUTTE, KOREA),
    mentions=(
        mention(ISW, TEXT_2, "Institute for the Study of War"),
        mention(RUSSIA, TEXT_2, "Russland"),
        mention(NORTH_KOREA, TEXT_2, "Nordkorea"),
        mention(ARMY, TEXT_2, "Nordkoreanische Volksarmee"),
        mention(RUTTE, TEXT_2, "Rutte"),
        mention(KOREA, TEXT_2, "Korea", TEXT_2.index("und")),
    ),
    statements=(
        Statement("Q159", "supports", "Q423", ISW.key, "hedged", 0.6, *T1, "unterstützt"),
        Statement(ARMY.key, "threatens", "Q57792", None, "asserted", 0.9, *T2, "droht"),
    ),
    extractor=EXTRACTOR,
)


def iri(entity: Entity) -> str:
    return str(entity_iri(entity.key, base_iri=B))


@pytest.fixture(scope="module")
def store() -> Iterator[OxigraphStore]:
    with open_store(None) as store:
        for extraction in (EXTRACTION_1, EXTRACTION_2):
            key = extraction.article.key
            store.replace_article(str(graph_iri(key, base_iri=B)), to_graph(extraction, base_iri=B))
        yield store


# --------------------------------------------------------------------------- search


def names(hits: list[EntityHit]) -> list[tuple[str, str, str]]:
    return [(h.label, h.matched, h.match) for h in hits]


def test_search_finds_labels_and_aliases_case_insensitively(store: OxigraphStore) -> None:
    assert names(search_entities(store, "RUTTE", base_iri=B)) == [("Mark Rutte", "Rutte", "exact")]
    # The English label finds the entity too; the German one is shown (lang="de").
    assert names(search_entities(store, "russia", base_iri=B)) == [("Russland", "Russia", "exact")]
    assert names(search_entities(store, "russ", base_iri=B, lang="en")) == [("Russia", "Russia", "prefix")]
    hit = search_entities(store, "  mark   r ", base_iri=B)[0]
    assert (hit.key, hit.qid, hit.type, hit.articles) == ("Q57792", "Q57792", "Person", 2)


def test_search_ranks_exact_then_prefix_then_word(store: OxigraphStore) -> None:
    # Korea (1 article) is an exact name; Nordkorea matches only at a later word of its English
    # label ("North Korea"), and comes second although more articles mention it.
    assert names(search_entities(store, "korea", base_iri=B)) == [
        ("Korea", "Korea", "exact"),
        ("Nordkorea", "North Korea", "word"),
    ]
    ranked = search_entities(store, "nordkorea", base_iri=B)
    assert names(ranked) == [
        ("Nordkorea", "Nordkorea", "exact"),
        ("Nordkoreanische Volksarmee", "Nordkoreanische Volksarmee", "prefix"),
    ]
    # Among prefix matches, more articles first: Nordkorea (2) before the army (1).
    assert [h.label for h in search_entities(store, "nordk", base_iri=B)] == [
        "Nordkorea",
        "Nordkoreanische Volksarmee",
    ]
    assert [h.articles for h in search_entities(store, "nordk", base_iri=B)] == [2, 1]
    assert names(search_entities(store, "study", base_iri=B)) == [
        ("Institute for the Study of War", "Institute for the Study of War", "word")
    ]


def test_search_limit_and_nothing_found(store: OxigraphStore) -> None:
    assert len(search_entities(store, "r", base_iri=B)) == 2  # Russland, Rutte
    assert len(search_entities(store, "r", base_iri=B, limit=1)) == 1
    assert search_entities(store, "xyz", base_iri=B) == []
    assert search_entities(store, "   ", base_iri=B) == []


@pytest.mark.parametrize("text", ['"} UNION { ?e ?p ?o } #', "\\", "'", "\n", ")"])
def test_search_text_cannot_break_out_of_the_query(store: OxigraphStore, text: str) -> None:
    assert search_entities(store, text, base_iri=B) == []


def test_search_refuses_an_overlong_text(store: OxigraphStore) -> None:
    with pytest.raises(QueryError, match="limit is 200"):
        search_entities(store, "a" * 201, base_iri=B)


# --------------------------------------------------------------------------- one entity


def test_entity_with_its_relations_and_claims(store: OxigraphStore) -> None:
    rutte = entity(store, iri(RUTTE), base_iri=B)
    assert rutte is not None
    assert (rutte.key, rutte.label, rutte.type, rutte.qid) == ("Q57792", "Mark Rutte", "Person", "Q57792")
    assert rutte.labels == {"de": "Mark Rutte", "en": "Mark Rutte"}
    assert rutte.wikidata_url == "https://www.wikidata.org/wiki/Q57792"
    assert rutte.description == "Secretary General of NATO"
    assert rutte.aliases == ("Rutte",)
    assert (rutte.articles, rutte.statements) == (2, 2)

    [accuses] = rutte.outgoing
    assert (accuses.relation, accuses.direction, accuses.statements) == ("accuses", "outgoing", 1)
    [link] = accuses.links
    assert (link.entity.label, link.entity.type, link.entity.key) == ("Russland", "Country", "Q159")
    assert (link.statements, link.articles, link.negated) == (1, 1, 0)
    assert (link.first_date, link.last_date) == ("2024-12-04", "2024-12-04")

    [threatens] = rutte.incoming
    assert (threatens.relation, threatens.direction) == ("threatens", "incoming")
    assert threatens.links[0].entity.key == ARMY.key
    assert threatens.links[0].entity.qid is None
    assert (threatens.links[0].first_date, threatens.links[0].last_date) == (None, None)  # undated article

    [claim] = rutte.claims
    assert (claim.subject.label, claim.relation, claim.object.label) == ("Russland", "supports", "Nordkorea")
    assert claim.statements == 1


def test_entity_counts_negated_statements_and_orders_groups(store: OxigraphStore) -> None:
    russia = entity(store, iri(RUSSIA), base_iri=B, lang="en")
    assert russia is not None
    assert russia.label == "Russia"
    assert [(g.relation, g.statements) for g in russia.outgoing] == [("supports", 2), ("supplies", 1)]
    supports, supplies = russia.outgoing
    # One dated and one undated article: the dates are those of the dated one.
    assert supports.links[0].entity.label == "North Korea"
    assert (supports.links[0].articles, supports.links[0].first_date) == (2, "2024-12-04")
    assert (supplies.links[0].negated, supplies.links[0].statements) == (1, 1)
    assert [(g.relation, g.links[0].entity.label) for g in russia.incoming] == [("accuses", "Mark Rutte")]
    assert russia.claims == ()


def test_unknown_entity_is_none_and_a_bad_iri_an_error(store: OxigraphStore) -> None:
    assert entity(store, B + "entity/person/nobody", base_iri=B) is None
    # An article is not an entity.
    assert entity(store, f"{B}article/{ARTICLE_1.key}", base_iri=B) is None
    with pytest.raises(QueryError, match="not an IRI"):
        entity(store, "not an iri>", base_iri=B)


def test_entity_label_falls_back_to_the_article_language(store: OxigraphStore) -> None:
    isw = entity(store, iri(ISW), base_iri=B, lang="en")
    assert isw is not None
    assert isw.label == "Institute for the Study of War"
    assert isw.labels == {"de": "Institute for the Study of War"}
    assert isw.qid is None and isw.wikidata_url is None


def test_keys_and_iris() -> None:
    assert entity_key_of(B + "entity/person/kurt-campbell", base_iri=B) == "person/kurt-campbell"
    assert entity_key_of(B + "entity/Q159", base_iri=B.rstrip("/")) == "Q159"
    assert entity_key_of("http://www.wikidata.org/entity/Q159", base_iri=B) is None
    assert entity_iri_of("person/kurt-campbell", base_iri=B) == B + "entity/person/kurt-campbell"
    assert entity_iri_of("http://example.org/x", base_iri=B) == "http://example.org/x"


# --------------------------------------------------------------------------- statements


def test_statements_behind_a_relation(store: OxigraphStore) -> None:
    found = statements(store, subject=iri(RUSSIA), relation="supports", object=iri(NORTH_KOREA), base_iri=B)
    assert [(s.modality, s.confidence) for s in found] == [("asserted", 0.8), ("hedged", 0.6)]  # dated first
    dated, undated = found
    assert dated.speaker is not None and dated.speaker.label == "Mark Rutte"
    assert dated.evidence == S1[2] == TEXT_1[dated.begin : dated.end]
    assert dated.trigger == "unterstützen"
    assert (dated.subject.label, dated.relation, dated.object.label) == ("Russland", "supports", "Nordkorea")
    assert dated.article.iri == f"{B}article/{ARTICLE_1.key}"
    assert (dated.article.title, dated.article.url, dated.article.date, dated.article.file_name) == (
        "Rutte: Russland unterstützt Nordkorea",
        "https://example.org/rutte",
        "2024-12-04",
        "001.txt",
    )
    assert undated.speaker is not None and undated.speaker.key == ISW.key
    assert (undated.article.title, undated.article.date, undated.article.url) == (None, None, None)


def test_statements_by_speaker_and_negated_ones(store: OxigraphStore) -> None:
    by_rutte = statements(store, speaker=iri(RUTTE), base_iri=B)
    assert [(s.subject.key, s.relation, s.object.key) for s in by_rutte] == [("Q159", "supports", "Q423")]
    negated = statements(store, relation="supplies", base_iri=B)
    assert [(s.modality, s.speaker) for s in negated] == [("negated", None)]
    assert statements(store, subject=iri(RUTTE), relation="supports", base_iri=B) == []
    assert len(statements(store, object=iri(NORTH_KOREA), base_iri=B, limit=1)) == 1


def test_statements_need_a_filter(store: OxigraphStore) -> None:
    with pytest.raises(QueryError, match="at least one"):
        statements(store, base_iri=B)
    with pytest.raises(QueryError, match="not a relation"):
        statements(store, relation="likes", base_iri=B)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- articles


def test_articles_with_counts_newest_first(store: OxigraphStore) -> None:
    found = articles(store)
    assert [(a.file_name, a.statements, a.entities) for a in found] == [("001.txt", 3, 3), ("002.txt", 2, 6)]
    first = found[0]
    assert (first.title, first.url, first.date, first.language) == (
        ARTICLE_1.title,
        ARTICLE_1.url,
        "2024-12-04",
        "de",
    )
    assert [a.file_name for a in articles(store, limit=1, offset=1)] == ["002.txt"]
    with pytest.raises(QueryError):
        articles(store, limit=0)


# --------------------------------------------------------------------------- the routes


@pytest.fixture(scope="module")
def client(store: OxigraphStore) -> Iterator[TestClient]:
    with TestClient(create_app(store=store)) as client:
        yield client


def test_search(client: TestClient) -> None:
    response = client.get("/api/entities", params={"q": "rutte"})
    assert response.status_code == 200
    assert response.json() == [
        {
            "iri": B + "entity/Q57792",
            "key": "Q57792",
            "label": "Mark Rutte",
            "type": "Person",
            "qid": "Q57792",
            "matched": "Rutte",
            "match": "exact",
            "articles": 2,
        }
    ]
    english = client.get("/api/entities", params={"q": "nord", "lang": "en", "limit": 1}).json()
    assert [hit["label"] for hit in english] == ["North Korea"]


@pytest.mark.parametrize(
    "params", [{}, {"q": ""}, {"q": "a" * 201}, {"q": "x", "limit": 0}, {"q": "x", "lang": "fr"}]
)
def test_search_rejects_bad_parameters(client: TestClient, params: dict[str, str]) -> None:
    assert client.get("/api/entities", params=params).status_code == 422


def test_entity_by_key_and_by_iri(client: TestClient) -> None:
    rutte = client.get("/api/entities/Q57792").json()
    assert rutte["label"] == "Mark Rutte"
    assert [(g["relation"], g["direction"]) for g in rutte["outgoing"] + rutte["incoming"]] == [
        ("accuses", "outgoing"),
        ("threatens", "incoming"),
    ]
    assert rutte["claims"][0]["subject"]["key"] == "Q159"
    # Keys with a slash are one path parameter.
    isw = client.get(f"/api/entities/{ISW.key}")
    assert isw.status_code == 200
    assert isw.json()["label"] == "Institute for the Study of War"
    assert client.get("/api/entity", params={"iri": B + "entity/Q57792"}).json() == rutte


def test_unknown_entity_is_404_and_a_bad_iri_400(client: TestClient) -> None:
    missing = client.get("/api/entities/person/nobody")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert "/api/entities?q=" in missing.json()["detail"]
    bad = client.get("/api/entity", params={"iri": "http://example.org/a b"})
    assert bad.status_code == 400
    assert "neither an entity key" in bad.json()["detail"]


def test_statements(client: TestClient) -> None:
    response = client.get(
        "/api/statements", params={"subject": "Q159", "relation": "supports", "object": "Q423"}
    )
    assert response.status_code == 200
    found = response.json()
    assert [s["modality"] for s in found] == ["asserted", "hedged"]
    first = found[0]
    assert first["speaker"]["label"] == "Mark Rutte"
    assert first["evidence"] == S1[2]
    assert first["article"] == {
        "iri": f"{B}article/{ARTICLE_1.key}",
        "title": ARTICLE_1.title,
        "file_name": "001.txt",
        "url": ARTICLE_1.url,
        "date": "2024-12-04",
        "language": "de",
    }
    by_iri = client.get("/api/statements", params={"speaker": B + "entity/Q57792"}).json()
    assert [s["iri"] for s in by_iri] == [first["iri"]]


def test_statements_need_a_filter_and_a_known_relation(client: TestClient) -> None:
    none = client.get("/api/statements")
    assert none.status_code == 400
    assert "at least one" in none.json()["detail"]
    assert client.get("/api/statements", params={"relation": "likes"}).status_code == 422


def test_articles(client: TestClient) -> None:
    found = client.get("/api/articles").json()
    assert [(a["file_name"], a["statements"], a["entities"]) for a in found] == [
        ("001.txt", 3, 3),
        ("002.txt", 2, 6),
    ]
    assert len(client.get("/api/articles", params={"limit": 1}).json()) == 1


def test_openapi_documents_the_views(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/api/entities", "/api/entities/{key}", "/api/entity", "/api/statements", "/api/articles"):
        assert "get" in schema["paths"][path], path
    assert "post" in schema["paths"]["/api/articles"]
    components = schema["components"]["schemas"]
    for name in (
        "EntityHit",
        "EntityDetail",
        "RelationGroup",
        "Link",
        "Claim",
        "StatementView",
        "ArticleSummary",
    ):
        assert name in components, name
    statement = components["StatementView"]["properties"]
    assert "kg:claimedBy" in str(statement["speaker"])
    assert components["StatementView"]["properties"]["modality"]["enum"] == [
        "asserted",
        "hedged",
        "negated",
        "planned",
    ]
    assert "/ui/" not in schema["paths"]
    assert client.get("/docs").status_code == 200


# --------------------------------------------------------------------------- the web pages


@pytest.mark.parametrize(
    ("path", "script"),
    [("/ui/", "sparql.js"), ("/ui/entity", "entity.js"), ("/ui/entity/person/kurt-campbell", "entity.js")],
)
def test_pages_and_their_assets_are_served(client: TestClient, path: str, script: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "{{root}}" not in page.text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert f"/static/{script}" in assets
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 1000, asset
    # Offline: nothing is loaded from another host.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)


def test_ui_redirects_and_root_path() -> None:
    with open_store(None) as store, TestClient(create_app(store=store), root_path="/kg") as client:
        page = client.get("/ui/")
        assert 'src="/kg/static/sparql.js"' in page.text
        redirect = client.get("/ui", follow_redirects=False)
        assert redirect.status_code == 307
        assert redirect.headers["location"].endswith("/kg/ui/")


def test_built_assets_are_in_the_package() -> None:
    for name in ("sparql.html", "entity.html", "sparql.js", "sparql.css", "entity.js", "entity.css"):
        assert (STATIC_DIR / name).is_file(), f"{name} missing: run `npm ci && npm run build` in web/"
    bundle = (STATIC_DIR / "sparql.js").read_text(encoding="utf-8")
    # The editor must not look up prefixes or terms on the internet (prefix.cc, LOV) by default.
    assert 'autocompleters=["prefixes","variables"]' in bundle.replace(" ", "")
