"""A real uvicorn server on 127.0.0.1 for the tests that talk HTTP to the service.

It runs uvicorn with the options `kg serve` uses (`Settings.uvicorn_options`:
the bounded httptools parser, `api.server`), so a test sees what a client
of `kg serve` sees.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from kg.settings import Settings

PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


@contextmanager
def live_server(app: FastAPI, settings: Settings) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 while the block runs; yields its base URL.

    Clear the proxy variables (`PROXY_VARIABLES`) first where clients read them.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **settings.uvicorn_options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    if thread.is_alive():
        raise RuntimeError("uvicorn did not stop within 10 s")
