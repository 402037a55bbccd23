"""One frozen settings object, read from the environment (prefix ``KG_``).

Paths default to the folders of this repository (`ontology/`, `shapes/`,
`data/`), which is where an editable install (``pip install -e .``, what the
Makefile does) finds them. Set ``KG_DATA_DIR`` and friends to run from
elsewhere.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Changes whenever extraction output can change; stored on every statement
#: and article, and a different version makes `kg build` re-extract.
EXTRACTOR_VERSION = "newskg-0.2.0"


class Settings(BaseSettings):
    """Where things are and how the builder and the service behave."""

    model_config = SettingsConfigDict(env_prefix="KG_", frozen=True)

    base_iri: str = "https://w3id.org/newskg/id/"
    data_dir: Path = REPO_ROOT / "data"
    ontology_dir: Path = REPO_ROOT / "ontology"
    shapes_dir: Path = REPO_ROOT / "shapes"
    pipeline_config: Path = REPO_ROOT / "kg" / "pipeline" / "pipeline.cfg"
    #: The statistical model the pipeline config's ``${paths.model}`` means when the config leaves it
    #: null: a folder, or the name of an installed spaCy package (docs/decisions/0009-ner-sources.md).
    model: str = str(REPO_ROOT / "models" / "de_newskg")
    store: Path = Path("kg-store")
    query_timeout_s: float = 10.0
    max_query_length: int = 100_000
    max_results: int = 100_000
    max_input_bytes: int = 20_000_000
    #: Articles `kg build` passes through the pipeline together (``nlp.pipe``; ``KG_BATCH_SIZE``).
    batch_size: int = Field(default=32, ge=1, le=10_000)

    @property
    def kb_dir(self) -> Path:
        return self.data_dir / "kb"

    @property
    def uvicorn_options(self) -> dict[str, Any]:
        """How `kg serve` (and the tests' live server) run uvicorn: the httptools HTTP parser, bounded
        (`api.server.BoundedHttpToolsProtocol`) to request lines and headers of up to
        ``9 * max_query_length`` bytes plus 64 KiB, so that a GET query over the limit (percent-encoded:
        up to 9 bytes a character) is read whole and answered 414 by the endpoint rather than cut off
        with a connection reset (uvicorn's own limit is 16 KiB). The event loop is uvloop where it is
        installed (uvicorn's ``loop="auto"``)."""
        return {
            # Named by import path: `kg` never imports `api` (docs/decisions/0003-sparql-service.md).
            "http": "api.server:BoundedHttpToolsProtocol",
            "h11_max_incomplete_event_size": 9 * self.max_query_length + 65_536,
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
