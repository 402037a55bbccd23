"""POST /api/articles: the token, the pipeline and shapes of `kg build`, the report.

The articles go through the rule-based pipeline (kg/pipeline/rules.cfg: no statistical model
to load); the route runs whichever the settings name. Slow: loading the pipeline and the first
article take 5-15 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from api.settings import ApiSettings
from kg.settings import REPO_ROOT, Settings
from kg.store import OxigraphStore, open_store

pytestmark = pytest.mark.slow

SETTINGS = Settings(pipeline_config=REPO_ROOT / "kg" / "pipeline" / "rules.cfg")
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ARTICLE = {
    "text": "Die Nato wirft Russland vor, Nordkorea zu unterstützen. Der Kreml weist das zurück.",
    "title": "Nato: Russland unterstützt Nordkorea",
    "url": "https://example.org/nato-russland-nordkorea",
    "date": "2024-12-04",
    "language": "de",
}


@pytest.fixture(scope="module")
def store() -> Iterator[OxigraphStore]:
    with open_store(None) as store:
        yield store


@pytest.fixture(scope="module")
def client(store: OxigraphStore) -> Iterator[TestClient]:
    app = create_app(store=store, settings=SETTINGS, api_settings=ApiSettings(write_token=SecretStr(TOKEN)))
    with TestClient(app) as client:
        yield client


def test_one_article_is_built_validated_and_queryable(client: TestClient, store: OxigraphStore) -> None:
    response = client.post("/api/articles", json=ARTICLE, headers=AUTH)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["ok"], report["articles"], report["built"], report["failed"]) == (True, 1, 1, 0)
    [result] = report["results"]
    assert result["status"] == "built"
    assert result["name"] == ARTICLE["title"]
    assert result["statements"] >= 1 and result["statements"] == report["statements"]
    assert "1 built" in report["summary"]
    # Written to the store: the article with its headline, and its entities for the JSON views.
    assert store.stats().articles == 1
    [article] = client.get("/api/articles").json()
    assert (article["iri"], article["title"], article["date"]) == (
        result["iri"],
        ARTICLE["title"],
        "2024-12-04",
    )
    assert article["statements"] == result["statements"]
    hits = client.get("/api/entities", params={"q": "nordkorea"}).json()
    assert hits[0]["key"] == "Q423"
    found = client.get(
        "/api/statements", params={"subject": "Q159", "relation": "supports", "object": "Q423"}
    )
    assert found.json()[0]["article"]["url"] == ARTICLE["url"]


def test_the_same_article_again_is_skipped(client: TestClient, store: OxigraphStore) -> None:
    before = store.stats()
    report = client.post("/api/articles", json=[ARTICLE], headers=AUTH).json()
    assert (report["ok"], report["skipped"], report["built"]) == (True, 1, 0)
    assert store.stats() == before


def test_a_batch_reports_each_article_and_stores_the_good_ones(
    client: TestClient, store: OxigraphStore
) -> None:
    good = ARTICLE | {"url": "https://example.org/other", "name": "other"}
    bad_date = ARTICLE | {"url": "https://example.org/bad-date", "date": "4. Dezember", "name": "bad-date"}
    no_sentence = {"text": "Nato!!", "name": "too-short"}
    before = store.stats().articles
    response = client.post("/api/articles", json=[good, bad_date, no_sentence], headers=AUTH)
    assert response.status_code == 400
    report = response.json()
    assert (report["ok"], report["built"], report["failed"]) == (False, 2, 1)
    assert [(r["name"], r["status"]) for r in report["results"]] == [
        ("other", "built"),
        ("bad-date", "built"),  # as in a JSON-lines file: the date is ignored with a warning, not guessed
        ("too-short", "failed"),
    ]
    assert any("4. Dezember" in w and "ignored" in w for w in report["results"][1]["warnings"])
    assert "sentence" in report["results"][2]["message"]
    assert store.stats().articles == before + 2


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}]
)
def test_a_missing_or_wrong_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/api/articles", json=ARTICLE, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"
    assert "Authorization: Bearer" in response.json()["detail"]


def test_without_a_configured_token_writes_are_403(store: OxigraphStore) -> None:
    with TestClient(create_app(store=store, settings=SETTINGS, api_settings=ApiSettings())) as client:
        response = client.post("/api/articles", json=ARTICLE, headers=AUTH)
    assert response.status_code == 403
    assert response.json()["error"] == "read_only"
    assert "KG_API_WRITE_TOKEN" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status"),
    [({"title": "no text"}, 422), ({"text": "x", "colour": "red"}, 422), ([], 400), ([ARTICLE] * 101, 413)],
)
def test_malformed_bodies(client: TestClient, body: object, status: int) -> None:
    assert client.post("/api/articles", json=body, headers=AUTH).status_code == status


def test_a_read_only_store_is_503(tmp_path: Path) -> None:
    open_store(tmp_path / "store").close()
    with open_store(tmp_path / "store", read_only=True, query_workers=0) as store:
        app = create_app(
            store=store, settings=SETTINGS, api_settings=ApiSettings(write_token=SecretStr(TOKEN))
        )
        with TestClient(app) as client:
            response = client.post("/api/articles", json=ARTICLE, headers=AUTH)
    assert response.status_code == 503
    assert response.json()["error"] == "read_only_store"
