"""The evidence fetcher against a real loopback HTTP server, without a proxy: raw bytes kept, chunked bodies
decoded, size and redirect loops bounded, connection failures reported with a reason."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evidence.fetch import FetchError, fetch_chain, fetch_once


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in ("<p>专家号", "代挂</p>"):
                data = part.encode("utf-8")
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/big":
            body = b"x" * 50_000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path in ("/loop-a", "/loop-b"):
            self.send_response(302)
            self.send_header("Location", "/loop-b" if self.path == "/loop-a" else "/loop-a")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def fetch(url: str, **kwargs: object) -> object:
    options = {"proxy": "", "user_agent": "touthunt-test", "timeout": 5.0, "max_bytes": 1_000_000, **kwargs}
    return fetch_once(url, **options)  # type: ignore[arg-type]


def test_chunked_answer_is_kept_raw_and_decoded(server: str) -> None:
    exchange = fetch(f"{server}/chunked")
    assert exchange.status == 200 and exchange.peer_address == "127.0.0.1"
    assert exchange.body.decode("utf-8") == "<p>专家号代挂</p>"
    assert b"Transfer-Encoding: chunked" in exchange.response and b"\r\n0\r\n\r\n" in exchange.response
    assert exchange.request.startswith(b"GET /chunked HTTP/1.1\r\n")


def test_size_limit_cuts_and_flags_the_answer(server: str) -> None:
    exchange = fetch(f"{server}/big", max_bytes=10_000)
    assert exchange.truncated and len(exchange.response) == 10_000


def test_redirect_loop_ends_with_the_chain_so_far(server: str) -> None:
    result = fetch_chain(f"{server}/loop-a", proxy="", user_agent="t", timeout=5.0, max_bytes=10_000, max_redirects=10)
    assert [e.status for e in result.exchanges] == [302, 302]
    assert [h["url"] for h in result.redirect_chain] == [f"{server}/loop-a", f"{server}/loop-b"]


def test_refused_connection_and_bad_url_have_reasons() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError) as refused:
        fetch(f"http://127.0.0.1:{port}/")
    assert refused.value.reason == "connection_refused"
    with pytest.raises(FetchError) as bad:
        fetch("javascript:alert(1)")
    assert bad.value.reason == "bad_url"
