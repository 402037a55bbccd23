"""The exception tree of the library.

::

    KGError                      anything this library raises on purpose
    ├── InputError               an article could not be read (file, line, why)
    ├── ConfigError              a setting, pipeline config or model is wrong or missing
    ├── ValidationFailed         a graph does not conform to the SHACL shapes
    ├── StoreError               the triple store cannot be opened, read or written
    ├── ExportError              an export was asked for in an unknown format or with a bad filter
    ├── PushError                an external triple store refused or did not answer `kg push`
    └── QueryError               a SPARQL query is malformed, refused or too slow
        ├── QueryRefused         it asks for something this service does not do (SERVICE, LOAD, updates)
        ├── QueryTimeout         it ran longer than the limit and was stopped
        └── ResultTooLarge       its answer has more rows or triples than the limit (KG_MAX_RESULTS)

Messages say what was received, what was expected and what to do next.
Batch operations turn these into error values in their report instead of
raising, so one bad article never stops a build (see `kg.build`).
"""

from __future__ import annotations


class KGError(Exception):
    """Base of every error this library raises on purpose."""


class InputError(KGError):
    """An article could not be read: names the file (and line) and the reason."""

    def __init__(self, source: str, reason: str, *, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


class ConfigError(KGError):
    """A setting, pipeline config or model is wrong or missing."""


class ValidationFailed(KGError):
    """A graph does not conform to the shapes; `report` holds the details."""

    def __init__(self, message: str, report: object | None = None) -> None:
        self.report = report
        super().__init__(message)


class StoreError(KGError):
    """The triple store cannot be opened, read or written."""


class PushError(KGError):
    """An external triple store refused a push or could not be reached (`kg.push`).

    Carries the endpoint, the HTTP status (None when no answer came) and the
    start of the store's response body.
    """

    def __init__(self, message: str, *, endpoint: str, status: int | None = None, body: str = "") -> None:
        self.endpoint = endpoint
        self.status = status
        self.body = body
        super().__init__(message)


class ExportError(KGError):
    """An export was asked for in an unknown format or with a bad filter value (kg.projection)."""


class QueryError(KGError):
    """A SPARQL query is malformed, refused or too slow."""


class QueryRefused(QueryError):
    """The query asks for something this service does not do (SERVICE, LOAD, updates)."""


class QueryTimeout(QueryError):
    """The query ran longer than the limit and was stopped."""


class ResultTooLarge(QueryError):
    """The answer has more rows (SELECT) or triples (CONSTRUCT, DESCRIBE) than the limit; it was stopped."""
