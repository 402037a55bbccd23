"""`kg push`: article graphs into an external triple store, with authentication and per-graph errors.

Fast tests run against a small stdlib HTTP server in a thread that checks
the Authorization header (basic, bearer, and the digest challenge flow of
RFC 7616). The slow ones start a real Oxigraph server (the `oxigraph`
command from the dev extra) and, where installed, Virtuoso (Debian's
virtuoso-opensource), push the sample articles and compare query answers
with the embedded store.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import parse_http_list, parse_keqv_list

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.build import Builder
from kg.errors import ConfigError
from kg.push import DEFAULT_GRAPH, BearerAuth, gsp_url, make_auth, push, update_requests
from kg.settings import REPO_ROOT
from kg.store import OxigraphStore, open_store
from kg.vocab import PREFIXES

B = "https://w3id.org/newskg/id/"
KG = "https://w3id.org/newskg/ontology#"
ARTICLE_A = f"""
<{B}article/a> <https://schema.org/headline> "Deutschland unterstützt die Ukraine" .
<http://www.wikidata.org/entity/Q183> <{KG}supports> <http://www.wikidata.org/entity/Q212> .
<http://www.wikidata.org/entity/Q183> <http://www.w3.org/2000/01/rdf-schema#label> "Deutschland"@de .
"""
ARTICLE_B = f"""
<{B}article/b> <https://schema.org/headline> "Zweiter\\nArtikel" .
<{B}article/b> <{KG}note> _:n .
_:n <{KG}text> "ein Knoten" .
"""
GRAPH_A = B + "graph/a"
GRAPH_B = B + "graph/b"


def nt(text: str) -> Graph:
    return Graph().parse(data=text, format="nt")


@pytest.fixture
def small_store() -> Iterator[OxigraphStore]:
    with open_store(None) as store:
        store.replace_article(GRAPH_A, nt(ARTICLE_A))
        store.replace_article(GRAPH_B, nt(ARTICLE_B))
        yield store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------- a tiny store that checks auth


@dataclass
class Received:
    method: str
    path: str
    params: dict[str, list[str]]
    content_type: str
    authorization: str
    body: bytes


@dataclass
class FakeStore:
    """What the handler checks and what it saw: a Graph Store that keeps each PUT body."""

    scheme: str = "none"  # none, basic, bearer, digest
    user: str = "writer"
    password: str = "s3cret"
    token: str = "tok-123"
    realm: str = "kg-test"
    fail_graphs: set[str] = field(default_factory=set)
    requests: list[Received] = field(default_factory=list)
    graphs: dict[str, bytes] = field(default_factory=dict)
    nonces: set[str] = field(default_factory=set)

    def challenge(self) -> str:
        if self.scheme == "digest":
            nonce = secrets.token_hex(8)
            self.nonces.add(nonce)
            return f'Digest realm="{self.realm}", nonce="{nonce}", qop="auth", algorithm=MD5'
        return f'Basic realm="{self.realm}"' if self.scheme == "basic" else "Bearer"

    def authorized(self, method: str, authorization: str) -> bool:
        if self.scheme == "none":
            return True
        if self.scheme == "bearer":
            return authorization == f"Bearer {self.token}"
        if self.scheme == "basic":
            return authorization == httpx.BasicAuth(self.user, self.password)._auth_header
        if not authorization.startswith("Digest "):
            return False
        fields = parse_keqv_list(parse_http_list(authorization[len("Digest ") :]))

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        ha1 = md5(f"{self.user}:{self.realm}:{self.password}")
        ha2 = md5(f"{method}:{fields['uri']}")
        expected = md5(f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}")
        return (
            fields.get("username") == self.user
            and fields.get("nonce") in self.nonces
            and fields.get("qop") == "auth"
            and fields.get("response") == expected
        )


def make_handler(fake: FakeStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_write(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            url = urlsplit(self.path)
            params = parse_qs(url.query, keep_blank_values=True)
            authorization = self.headers.get("Authorization", "")
            fake.requests.append(
                Received(
                    self.command, url.path, params, self.headers.get("Content-Type", ""), authorization, body
                )
            )
            if url.path != "/store":
                self.answer(404, b"no such service")
            elif not fake.authorized(self.command, authorization):
                self.answer(401, b"Unauthorized: who are you?", {"WWW-Authenticate": fake.challenge()})
            else:
                graph = params.get("graph", [DEFAULT_GRAPH])[0]
                if graph in fake.fail_graphs:
                    self.answer(500, b"Internal error: the disk is full " + b"x" * 2000)
                    return
                fake.graphs[graph] = body
                self.answer(204)

        do_PUT = handle_write
        do_POST = handle_write

    return Handler


@pytest.fixture
def fake_store() -> Iterator[tuple[FakeStore, str]]:
    fake = FakeStore()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/store"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --------------------------------------------------------------------------- pure parts


def test_gsp_url_encodes_the_graph_and_keeps_the_endpoints_parameters() -> None:
    url = gsp_url("http://h:1/store?db=news", B + "graph/x#y")
    assert url.params.get("db") == "news"
    assert url.params.get("graph") == B + "graph/x#y"
    assert "%23" in str(url)
    assert str(gsp_url("http://h:1/store", None)) == "http://h:1/store?default="


def apply(requests: list[str], store: ox.Store) -> None:
    for request in requests:
        store.update(request)


def graph_of(store: ox.Store, name: ox.NamedNode | ox.DefaultGraph) -> Graph:
    data = ox.serialize(
        (q.triple for q in store.quads_for_pattern(None, None, None, name)), format=ox.RdfFormat.N_TRIPLES
    )
    return nt(data.decode() if data else "")


def test_update_requests_chunk_without_splitting_blank_nodes_and_replace_on_repush() -> None:
    source = nt(
        ARTICLE_B
        + f"""
_:n <{KG}more> _:m .
_:m <{KG}text> "zweiter Knoten" .
<{B}x1> <{KG}p> "1" .
<{B}x2> <{KG}p> "2" .
<{B}x3> <{KG}p> "3" .
<{B}x4> <{KG}p> "4" .
"""
    )
    triples = [q.triple for q in ox.parse(source.serialize(format="nt"), ox.RdfFormat.N_TRIPLES)]
    requests = update_requests(GRAPH_B, triples, chunk_triples=2)
    # 4 triples with blank nodes go together into the first request, then 5 plain ones, 2 per request.
    assert len(requests) == 1 + 3
    assert requests[0].startswith(f"DROP SILENT GRAPH <{GRAPH_B}> ;")
    assert requests[0].count("_:") == 5
    assert all("_:" not in r and "DROP" not in r for r in requests[1:])
    target = ox.Store()
    target.update(f'INSERT DATA {{ GRAPH <{GRAPH_B}> {{ <{B}stale> <{KG}p> "old" }} }}')
    apply(requests, target)
    apply(requests, target)  # pushing again replaces: no duplicates, no second copy of the blank nodes
    assert isomorphic(graph_of(target, ox.NamedNode(GRAPH_B)), source)
    assert len(target) == len(source)


def test_update_requests_for_the_default_graph_and_an_empty_graph() -> None:
    triples = [q.triple for q in ox.parse(ARTICLE_A.encode(), ox.RdfFormat.N_TRIPLES)]
    requests = update_requests(None, triples, chunk_triples=10)
    assert len(requests) == 1 and requests[0].startswith("DROP SILENT DEFAULT ;")
    target = ox.Store()
    apply(requests, target)
    assert isomorphic(graph_of(target, ox.DefaultGraph()), nt(ARTICLE_A))
    assert update_requests(GRAPH_A, [], chunk_triples=10) == [f"DROP SILENT GRAPH <{GRAPH_A}>"]
    with pytest.raises(ConfigError, match="at least 1"):
        update_requests(GRAPH_A, triples, chunk_triples=0)


def test_make_auth_refuses_half_given_or_mixed_credentials() -> None:
    assert make_auth() is None
    assert isinstance(make_auth(token="t"), BearerAuth)
    assert isinstance(make_auth(user="u", password="p", scheme="digest"), httpx.DigestAuth)
    for kwargs, message in (
        ({"user": "u"}, "both a user and a password"),
        ({"password": "p"}, "both a user and a password"),
        ({"user": "u", "password": "p", "token": "t"}, "not both"),
        ({"token": ""}, "empty"),
        ({"user": "u", "password": "p", "scheme": "ntlm"}, "unknown authentication scheme 'ntlm'"),
    ):
        with pytest.raises(ConfigError, match=message):
            make_auth(**kwargs)  # type: ignore[arg-type]


def test_push_refuses_a_bad_endpoint_or_protocol(small_store: OxigraphStore) -> None:
    with pytest.raises(ConfigError, match="not an http"):
        push(small_store, "ftp://h/store")
    with pytest.raises(ConfigError, match="unknown push protocol 'webdav'"):
        push(small_store, "http://h/store", protocol="webdav")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- against the tiny store


@pytest.mark.parametrize("scheme", ["none", "basic", "bearer", "digest"])
def test_push_authenticates_and_sends_one_put_per_article_graph(
    fake_store: tuple[FakeStore, str], small_store: OxigraphStore, scheme: str
) -> None:
    fake, endpoint = fake_store
    fake.scheme = scheme
    auth = {
        "none": None,
        "basic": make_auth(user=fake.user, password=fake.password),
        "bearer": make_auth(token=fake.token),
        "digest": make_auth(user=fake.user, password=fake.password, scheme="digest"),
    }[scheme]
    report = push(small_store, endpoint, auth=auth)
    assert report.ok, report.graphs
    assert [(g.graph, g.status, g.triples) for g in report.graphs] == [
        (GRAPH_A, "pushed", 3),
        (GRAPH_B, "pushed", 3),
    ]
    assert isomorphic(nt(fake.graphs[GRAPH_A].decode()), nt(ARTICLE_A))
    assert isomorphic(nt(fake.graphs[GRAPH_B].decode()), nt(ARTICLE_B))
    assert {r.method for r in fake.requests} == {"PUT"}
    assert all(r.content_type == "application/n-triples" for r in fake.requests)
    if scheme == "digest":
        # The challenge flow: the first PUT goes without credentials and gets 401 with a nonce, then
        # again with the answer; httpx keeps the nonce, so the next PUT answers it at once (nc=2).
        assert [r.authorization[:7] for r in fake.requests] == ["", "Digest ", "Digest "]
        assert fake.requests[0].body == fake.requests[1].body
        assert "nc=00000002" in fake.requests[2].authorization
    else:
        assert len(fake.requests) == 2
    if scheme == "bearer":
        assert all(r.authorization == "Bearer tok-123" for r in fake.requests)


@pytest.mark.parametrize("scheme", ["basic", "digest", "bearer"])
def test_wrong_credentials_fail_the_first_graph_and_skip_the_rest(
    fake_store: tuple[FakeStore, str], small_store: OxigraphStore, scheme: str
) -> None:
    fake, endpoint = fake_store
    fake.scheme = scheme
    auth = (
        make_auth(token="wrong")
        if scheme == "bearer"
        else make_auth(user="writer", password="wrong", scheme=scheme)
    )
    report = push(small_store, endpoint, auth=auth)
    assert [g.status for g in report.graphs] == ["failed", "skipped"]
    message = report.graphs[0].message
    assert endpoint in message and "401" in message and "who are you?" in message and "--password" in message
    assert report.graphs[1].message == f"not tried: {endpoint} answered 401 to the graph before"
    assert not fake.graphs and not report.ok


def test_a_server_error_fails_one_graph_and_the_others_are_still_pushed(
    fake_store: tuple[FakeStore, str], small_store: OxigraphStore
) -> None:
    fake, endpoint = fake_store
    fake.fail_graphs = {GRAPH_A}
    seen: list[str] = []
    report = push(small_store, endpoint, include_default_graph=True, progress=lambda g: seen.append(g.status))
    assert seen == ["failed", "pushed", "pushed"]
    assert [g.graph for g in report.graphs] == [GRAPH_A, GRAPH_B, DEFAULT_GRAPH]
    failed = report.graphs[0]
    assert (
        "500" in failed.message and "the disk is full" in failed.message and "see its log" in failed.message
    )
    assert len(failed.message) < 1000  # the store's body is cut
    assert set(fake.graphs) == {GRAPH_B, DEFAULT_GRAPH}
    assert fake.requests[-1].params == {"default": [""]}
    # Triples count only for graphs pushed: B (3) and the union (6).
    assert "2 graphs pushed (9 triples), 1 failed, 0 skipped" in report.summary()


def test_a_wrong_path_and_no_server_are_reported_once_and_the_rest_skipped(
    fake_store: tuple[FakeStore, str], small_store: OxigraphStore
) -> None:
    _, endpoint = fake_store
    report = push(small_store, endpoint.replace("/store", "/sparql"))
    assert [g.status for g in report.graphs] == ["failed", "skipped"]
    assert "404" in report.graphs[0].message and "no such endpoint" in report.graphs[0].message
    closed = f"http://127.0.0.1:{free_port()}/store"
    report = push(small_store, closed)
    assert [g.status for g in report.graphs] == ["failed", "skipped"]
    assert f"cannot connect to {closed}" in report.graphs[0].message
    assert report.graphs[1].message == f"not tried: no connection to {closed}"


def test_update_protocol_posts_sparql_update(
    fake_store: tuple[FakeStore, str], small_store: OxigraphStore
) -> None:
    fake, endpoint = fake_store
    report = push(small_store, endpoint, protocol="update", chunk_triples=2)
    assert report.ok
    # A: 3 plain triples in chunks of 2; B: its 2 triples with a blank node together, then 1 more.
    assert [g.requests for g in report.graphs] == [2, 2]
    assert {(r.method, r.content_type) for r in fake.requests} == {("POST", "application/sparql-update")}
    target = ox.Store()
    apply([r.body.decode() for r in fake.requests], target)
    assert isomorphic(graph_of(target, ox.NamedNode(GRAPH_A)), nt(ARTICLE_A))
    assert isomorphic(graph_of(target, ox.NamedNode(GRAPH_B)), nt(ARTICLE_B))


# --------------------------------------------------------------------------- real stores (slow)

SAMPLES = REPO_ROOT / "data" / "samples"
PROLOGUE = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
COUNTS = PROLOGUE + (
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
    f'FILTER(STRSTARTS(STR(?g), "{B}graph/")) }} GROUP BY ?g'
)
STATEMENTS = (
    PROLOGUE
    + """
SELECT ?g ?st ?s ?rel ?o ?speaker ?modality ?evidence ?date WHERE { GRAPH ?g {
  ?st a kg:Statement ; kg:subject ?s ; kg:relation ?rel ; kg:object ?o ; kg:modality ?modality ;
      kg:evidenceText ?evidence ; kg:article ?a .
  OPTIONAL { ?st kg:claimedBy ?speaker }
  OPTIONAL { ?a schema:datePublished ?date } } }"""
)
DIRECT = PROLOGUE + "SELECT ?who ?whom WHERE { ?who kg:supports ?whom }"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OxigraphStore, Path]]:
    folder = tmp_path_factory.mktemp("samples") / "store"
    with open_store(folder) as store:
        report = Builder(store).build_paths([SAMPLES])
        # The build's own quality is tests/test_build.py's business; here any built articles will do.
        assert report.count("built") >= 3, report.summary()
    with open_store(folder, read_only=True, query_workers=0) as store:
        yield store, folder


def rows(response: httpx.Response) -> list[tuple[str | None, ...]]:
    response.raise_for_status()
    data = response.json()
    names = data["head"]["vars"]
    return sorted(
        tuple(b[n]["value"] if n in b else None for n in names) for b in data["results"]["bindings"]
    )


def local_rows(store: OxigraphStore, sparql: str) -> list[tuple[str | None, ...]]:
    return sorted(tuple(row.values()) for row in store.select(sparql))


@dataclass
class External:
    query_url: str
    gsp_url: str
    update_url: str
    auth: httpx.Auth | None

    def select(self, sparql: str) -> list[tuple[str | None, ...]]:
        return rows(
            httpx.post(
                self.query_url,
                data={"query": sparql},
                headers={"Accept": "application/sparql-results+json"},
                timeout=30,
            )
        )

    def graph(self, iri: str) -> Graph:
        response = httpx.post(
            self.query_url,
            data={"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"},
            headers={"Accept": "application/n-triples"},
            timeout=30,
        )
        response.raise_for_status()
        return nt(response.text)


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the store exited with {process.returncode} before answering at {url}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"the store did not answer at {url} within {seconds} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[External]:
    binary = shutil.which(
        "oxigraph", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    if binary is None:
        pytest.fail("the `oxigraph` command is missing: it comes with the dev extra, pip install -e '.[dev]'")
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    process = subprocess.Popen(
        [binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/", process, 30)
        yield External(base + "/query", base + "/store", base + "/update", None)
    finally:
        stop(process)


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 0
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = .
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
ServerThreads = 4
MaxClientConnections = 4
[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
"""


@pytest.fixture(scope="module")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[External]:
    binary = shutil.which("virtuoso-t")
    if binary is None:
        pytest.skip("Virtuoso is not installed (Debian: apt-get install virtuoso-opensource)")
    folder = tmp_path_factory.mktemp("virtuoso")
    http_port, sql_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=folder, sql_port=sql_port, http_port=http_port))
    process = subprocess.Popen(
        [binary, "-f", "-c", str(ini)], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_for(base + "/sparql", process, 120)
        # A fresh database has the account dba/dba; writes need it, with digest authentication.
        auth = httpx.DigestAuth("dba", "dba")
        yield External(base + "/sparql", base + "/sparql-graph-crud-auth", base + "/sparql-auth", auth)
    finally:
        stop(process)


def check_same_answers(external: External, store: OxigraphStore) -> None:
    expected_counts = local_rows(store, COUNTS)
    assert len(expected_counts) == len(store.article_graphs())
    assert external.select(COUNTS) == expected_counts
    statements = local_rows(store, STATEMENTS)
    assert len(statements) > 20
    assert external.select(STATEMENTS) == statements
    for graph in store.article_graphs():
        local = nt(
            store.query(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            ).payload.decode()
        )
        assert isomorphic(external.graph(graph), local), graph


def push_stale_triple(external: External, graph: str) -> None:
    """A triple in an article graph that the embedded store does not have: a push must remove it."""
    response = httpx.post(
        external.gsp_url,
        params={"graph": graph},
        content=f'<{B}stale> <{KG}p> "left from an old push" .\n'.encode(),
        headers={"Content-Type": "application/n-triples"},
        auth=external.auth or httpx.USE_CLIENT_DEFAULT,
    )
    response.raise_for_status()


@pytest.mark.slow
def test_push_to_oxigraph_server_gives_the_same_answers(
    oxigraph_server: External, samples: tuple[OxigraphStore, Path]
) -> None:
    store, _ = samples
    first = push(store, oxigraph_server.gsp_url)
    assert first.ok and first.count("pushed") == len(store.article_graphs())
    assert first.triples == store.stats().named_graph_quads
    check_same_answers(oxigraph_server, store)
    push_stale_triple(oxigraph_server, store.article_graphs()[0])
    again = push(store, oxigraph_server.gsp_url)  # replaces: the stale triple goes, nothing is doubled
    assert again.ok
    check_same_answers(oxigraph_server, store)
    push_stale_triple(oxigraph_server, store.article_graphs()[1])
    by_update = push(store, oxigraph_server.update_url, protocol="update", chunk_triples=100)
    assert by_update.ok and all(g.requests > 1 for g in by_update.graphs)
    check_same_answers(oxigraph_server, store)
    # Oxigraph's default graph is its own graph: empty until the union is pushed into it.
    assert oxigraph_server.select(DIRECT) == []
    with_default = push(store, oxigraph_server.gsp_url, include_default_graph=True, body_format="turtle")
    assert with_default.ok and with_default.graphs[-1].graph == DEFAULT_GRAPH
    assert oxigraph_server.select(DIRECT) == local_rows(store, DIRECT) != []
    check_same_answers(oxigraph_server, store)


@pytest.mark.slow
def test_kg_push_command_prints_each_graph_and_exits_1_on_failure(
    oxigraph_server: External, samples: tuple[OxigraphStore, Path]
) -> None:
    store, folder = samples
    command = [sys.executable, "-m", "kg.cli", "push", "--store", str(folder)]
    done = subprocess.run(
        [*command, "--endpoint", oxigraph_server.gsp_url], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert sorted(line.split()[1] for line in done.stdout.splitlines()) == store.article_graphs()
    graphs = len(store.article_graphs())
    assert f"{graphs} graphs pushed" in done.stderr and "0 failed" in done.stderr
    wrong = oxigraph_server.gsp_url.replace("/store", "/nothing")
    failed = subprocess.run([*command, "--endpoint", wrong], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    assert "404" in failed.stderr and f"1 failed, {graphs - 1} skipped" in failed.stderr
    usage = subprocess.run(
        [*command, "--endpoint", oxigraph_server.gsp_url, "--user", "u"], capture_output=True, text=True
    )
    assert usage.returncode == 2 and "both a user and a password" in usage.stderr


@pytest.mark.slow
def test_push_to_virtuoso_with_digest_gives_the_same_answers(
    virtuoso_server: External, samples: tuple[OxigraphStore, Path]
) -> None:
    store, _ = samples
    refused = push(store, virtuoso_server.gsp_url)  # no credentials
    assert [g.status for g in refused.graphs] == ["failed"] + ["skipped"] * (len(store.article_graphs()) - 1)
    assert "401" in refused.graphs[0].message
    first = push(store, virtuoso_server.gsp_url, auth=virtuoso_server.auth)
    assert first.ok, first.graphs
    check_same_answers(virtuoso_server, store)
    push_stale_triple(virtuoso_server, store.article_graphs()[0])
    assert push(store, virtuoso_server.gsp_url, auth=virtuoso_server.auth).ok
    check_same_answers(virtuoso_server, store)
    push_stale_triple(virtuoso_server, store.article_graphs()[1])
    by_update = push(
        store, virtuoso_server.update_url, protocol="update", auth=virtuoso_server.auth, chunk_triples=100
    )
    assert by_update.ok, by_update.graphs
    check_same_answers(virtuoso_server, store)
