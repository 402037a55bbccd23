"""``POST /api/articles``: ingest articles through the same pipeline and validation as ``kg build``.

The articles go through `kg.build.Builder` exactly as files do: extract,
map, SHACL-validate, and write each valid article's named graph in one
transaction (an unchanged article is skipped, a bad one is reported and
nothing of it is written). The answer is the build report. Writing needs the
service's write token (`api.auth.require_write_token`) and a store opened
for writing. The pipeline is loaded on the first request (a few seconds) and
kept; one ingestion runs at a time. Decision: docs/decisions/0013-web-ui-and-rest.md.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import require_write_token
from api.deps import SettingsDep, StoreDep
from api.errors import ApiError
from kg.build import ArticleResult, Builder, BuildReport
from kg.errors import InputError
from kg.io import Loaded, article_from_fields
from kg.metadata import normalize_text
from kg.settings import Settings
from kg.store import Store

router = APIRouter(prefix="/api", tags=["ingestion"])

#: Articles accepted in one request; send more in several.
MAX_ARTICLES = 100


class ArticleIn(BaseModel):
    """One article to ingest: its text and what is known about it."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="The article's text (plain text, UTF-8).")
    title: str | None = Field(default=None, description="Headline.")
    url: str | None = Field(
        default=None, description="Where it was published; it decides the article's identity."
    )
    date: str | None = Field(
        default=None,
        description="Publication date, an ISO 8601 prefix: 2024, 2024-12, 2024-12-04, 2024-12-04T18:49.",
    )
    language: str | None = Field(default=None, description="Language tag (de, en).")
    source: str | None = Field(default=None, description="The publisher (kg:source).")
    name: str | None = Field(
        default=None, description="How the report names it; default: the title, else the URL, else api:<n>."
    )


class BuildReportOut(BaseModel):
    """The build report: what happened to each article, in input order."""

    ok: bool = Field(description="True when no article failed or was invalid.")
    summary: str = Field(description="One line, as `kg build` prints it.")
    articles: int
    built: int
    skipped: int = Field(description="Unchanged: already stored with the same text and extractor.")
    failed: int
    invalid: int = Field(description="Rejected by the SHACL shapes.")
    statements: int = Field(description="Statements written.")
    seconds: float
    results: list[ArticleResult]

    @classmethod
    def of(cls, report: BuildReport) -> BuildReportOut:
        return cls(
            ok=report.ok,
            summary=report.summary(),
            articles=len(report.results),
            built=report.count("built"),
            skipped=report.count("skipped"),
            failed=report.count("failed"),
            invalid=report.count("invalid"),
            statements=sum(r.statements for r in report.results if r.status == "built"),
            seconds=round(report.seconds, 3),
            results=report.results,
        )


_lock = threading.Lock()


def _builder(request: Request, store: Store, settings: Settings) -> Builder:
    """The app's builder (its pipeline loads once, on the first ingestion)."""
    builder: Builder | None = getattr(request.app.state, "builder", None)
    if builder is None or builder.store is not store:
        builder = Builder(store, settings=settings)
        request.app.state.builder = builder
    return builder


def _articles(body: ArticleIn | list[ArticleIn]) -> list[Loaded | InputError]:
    """The request's articles, read as a JSON-lines file's are (`kg.io.article_from_fields`)."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise ApiError(
            400, "bad_request", "no articles: send one article object or a non-empty array of them"
        )
    if len(items) > MAX_ARTICLES:
        raise ApiError(
            413, "too_many_articles", f"{len(items)} articles in one request; the limit is {MAX_ARTICLES}"
        )
    out: list[Loaded | InputError] = []
    for n, item in enumerate(items, start=1):
        name = item.name or item.title or item.url or f"api:{n}"
        fields = {
            key: value.strip()
            for key, value in (
                ("date", item.date),
                ("language", item.language),
                ("url", item.url),
                ("title", item.title),
                ("source", item.source),
            )
            if value is not None and value.strip()
        }
        out.append(article_from_fields(normalize_text(item.text), fields, name=name, source=name))
    return out


@router.post(
    "/articles",
    name="ingest_articles",
    summary="Ingest articles (write token required)",
    response_model=BuildReportOut,
    dependencies=[Depends(require_write_token)],
    responses={
        400: {
            "model": BuildReportOut,
            "description": "Some articles failed or were invalid; the others are stored",
        },
        401: {"description": "No token, or the wrong one"},
        403: {"description": "Writing is disabled: no write token is configured"},
    },
)
def ingest_articles(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    body: Annotated[
        ArticleIn | list[ArticleIn],
        Body(
            description="One article, or an array of up to 100.",
            examples=[
                {
                    "text": "Die Nato wirft Russland vor, Nordkorea zu unterstützen.",
                    "title": "Nato: Russland unterstützt Nordkorea",
                    "url": "https://example.org/nato-russland",
                    "date": "2024-12-04",
                    "language": "de",
                }
            ],
        ),
    ],
) -> BuildReportOut | JSONResponse:
    """Run each article through the pipeline and the SHACL shapes, and store the valid ones.

    200 with the report when every article was built or was already stored
    unchanged; 400 with the same report when any failed or was invalid (the
    others are stored all the same, each in its own transaction).
    """
    if getattr(store, "read_only", False):
        raise ApiError(
            503,
            "read_only_store",
            "the service opened its store read-only, so it cannot store articles; "
            "start it with a write token configured (KG_API_WRITE_TOKEN), or use `kg build`",
        )
    articles = _articles(body)
    with _lock:
        builder = _builder(request, store, settings)
        report = builder.build_loaded(articles)
    out = BuildReportOut.of(report)
    if not report.ok:
        return JSONResponse(out.model_dump(mode="json"), status_code=400)
    return out
