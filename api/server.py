"""The HTTP protocol `kg serve` runs uvicorn with: httptools, with a bound on the request head.

httptools (C) parses a request in a fraction of what h11 (pure Python) takes, but
uvicorn bounds the request line and headers only for h11
(``h11_max_incomplete_event_size``): with httptools it collects a URL of any
length. `BoundedHttpToolsProtocol` applies that same bound
(`kg.settings.Settings.uvicorn_options`: room for a query at
``KG_MAX_QUERY_LENGTH``, percent-encoded, so such a GET still reaches the
endpoint and gets its 414 in JSON). A head past the bound is answered 414 (or
431 once headers have begun) and the connection closed, without reading the
rest. URLs over 64 KiB, which `httptools.parse_url` cannot parse, have their
query string split off here. Decision: docs/decisions/0003-sparql-service.md.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

#: uvicorn's own bound for h11 when none is configured.
DEFAULT_HEAD_LIMIT = 16 * 1024
#: The longest URL `httptools.parse_url` parses.
PARSE_URL_LIMIT = 65_535


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request line plus headers longer than the configured
    ``h11_max_incomplete_event_size``. Counted per read from the first read of a connection and from
    the read after the one a keep-alive request begins in, so at most one more read (256 KiB)
    is taken in."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.head_limit = config.h11_max_incomplete_event_size or DEFAULT_HEAD_LIMIT
        self._head_bytes = 0
        self._in_head = True

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.head_limit:
                self._refuse()
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        # httptools.parse_url takes at most 64 KiB (16-bit offsets) and uvicorn answers a longer URL
        # 400; the long part of a SPARQL GET is its query string, so that is split off here.
        query = None
        if len(self.url) > PARSE_URL_LIMIT:
            path, _, rest = self.url.partition(b"?")
            self.url, query = path, rest.partition(b"#")[0]
        super().on_headers_complete()
        if query is not None and "path" in self.scope:  # not a protocol upgrade
            self.scope["query_string"] = query

    def _refuse(self) -> None:
        status, reason, what = (
            (431, b"Request Header Fields Too Large", "headers")
            if self.headers
            else (414, b"URI Too Long", "request line")
        )
        body = json.dumps(
            {
                "error": "too_large",
                "detail": f"the {what} of this request is over {self.head_limit} bytes; send a long query "
                "by POST (application/sparql-query or a form body)",
            }
        ).encode("utf-8")
        head = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
        self._in_head = False


__all__ = ["BoundedHttpToolsProtocol"]
