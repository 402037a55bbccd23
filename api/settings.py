"""Settings of the SPARQL service: the library's `Settings` plus what only the service needs.

The store folder, query timeout and query length limit come from
`kg.settings.Settings` (``KG_STORE``, ``KG_QUERY_TIMEOUT_S``,
``KG_MAX_QUERY_LENGTH``), so the CLI and the service read one configuration.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from kg.settings import Settings, get_settings

__all__ = ["ApiSettings", "Settings", "get_api_settings", "get_settings"]


class ApiSettings(BaseSettings):
    """How the service runs (environment prefix ``KG_API_``)."""

    model_config = SettingsConfigDict(env_prefix="KG_API_", frozen=True)

    #: Origins allowed to call /sparql from a browser. All by default: the data is public and
    #: read-only, and browser clients such as YASGUI are served from other origins.
    cors_origins: tuple[str, ...] = ("*",)
    #: Worker processes that run queries on the read-only store and are killed at the timeout.
    query_workers: int = Field(default=2, ge=1, le=64)
    #: Bearer token that writes (POST /api/articles) must carry (``KG_API_WRITE_TOKEN``); None: no writes.
    write_token: SecretStr | None = None


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The process-wide service settings, read once from the environment."""
    return ApiSettings()
