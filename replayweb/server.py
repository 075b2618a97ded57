"""The replay-web HTTP server: a loopback forward proxy that answers from the recorded web.

This module owns serving. :class:`ReplayWeb` loads a recorded web (see ``replayweb.site``) and
runs a threaded HTTP/1.1 server on loopback that behaves like an HTTP forward proxy for the
recorded hosts: clients send absolute-URI requests (``GET http://host/path HTTP/1.1``) and get
the recorded page, redirect, error page or generated body; origin-form requests are routed by
their ``Host`` header, so the web can also be browsed directly. Unknown hosts get ``503`` with
``X-Squid-Error: ERR_DNS_FAIL 0`` (as Squid answers when DNS fails), unknown paths the host's
``404`` page, ``CONNECT`` a ``405``. Nothing ever leaves the machine.

Robustness rules: each connection runs on a daemon thread; no exception escapes a handler;
delays wait on a stop event, so :meth:`ReplayWeb.stop` returns promptly even mid-delay; open
connections are shut down on stop.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from replayweb.generate import huge_html, png_bytes
from replayweb.site import Route, Site, Web, load_web, normalise_host

__all__ = ["ReplayWeb"]

log = logging.getLogger(__name__)

_WRITE_CHUNK = 256 * 1024
_IDLE_TIMEOUT_S = 30.0

RequestRecord = tuple[str, str, int]


class ReplayWeb:
    """Serve a recorded web as an HTTP proxy on loopback.

    >>> with ReplayWeb() as web:                       # doctest: +SKIP
    ...     opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": web.proxy_url}))

    ``web_dir`` defaults to the packaged web (``replayweb/web``); it is loaded and validated in
    the constructor, so a malformed recording raises :class:`replayweb.site.WebError` before any
    socket is opened. ``port=0`` picks a free port; read it back from :attr:`port`.
    """

    def __init__(self, web_dir: Path | str | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.web: Web = load_web(web_dir)
        self._bind_host = host
        self._bind_port = port
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._log_lock = threading.Lock()
        self._log: list[RequestRecord] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> ReplayWeb:
        """Bind and start serving on a background daemon thread. Returns ``self``."""
        if self._server is not None:
            raise RuntimeError("ReplayWeb is already started")
        if self._stop_event.is_set():
            raise RuntimeError("ReplayWeb cannot be restarted after stop(); create a new instance")
        server = _ProxyServer((self._bind_host, self._bind_port), self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="replayweb", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, abort pending delays, close open connections. Idempotent and prompt."""
        self._stop_event.set()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def serve_forever(self) -> None:
        """Start (unless already started) and block until interrupted or stopped."""
        if self._server is None:
            self.start()
        try:
            while not self._stop_event.wait(0.5):
                pass
        finally:
            self.stop()

    def __enter__(self) -> ReplayWeb:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- introspection ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            return self._bind_port
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return self._bind_host

    @property
    def proxy_url(self) -> str:
        """``http://HOST:PORT``: pass it as the HTTP proxy of every fetch."""
        if self._server is None:
            raise RuntimeError("ReplayWeb is not running; call start() or use it as a context manager")
        host = f"[{self._bind_host}]" if ":" in self._bind_host else self._bind_host
        return f"http://{host}:{self.port}"

    @property
    def requests_log(self) -> list[RequestRecord]:
        """Snapshot of ``(method, absolute_url, status)`` for every request received, in order.

        A request is recorded when it arrives (before any configured delay), with the status
        the server answers or will answer; use :meth:`clear_log` to reset between test steps.
        """
        with self._log_lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    # -- internals used by the handler -----------------------------------------------------------

    @property
    def stop_event(self) -> threading.Event:
        return self._stop_event

    def record(self, method: str, url: str, status: int) -> None:
        with self._log_lock:
            self._log.append((method, url, status))


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128  # socketserver's default of 5 makes concurrent clients wait for SYN retries

    def __init__(self, address: tuple[str, int], owner: ReplayWeb) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.owner = owner
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket) -> None:
        with self._conn_lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._conn_lock:
            self._connections.discard(conn)

    def close_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
            self._connections.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Default prints a traceback to stderr; connection drops are routine for a test proxy.
        log.debug("replayweb: error while serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # answer unparsable request lines with a status line, not HTTP/0.9
    server_version = "nginx"
    sys_version = ""
    timeout = _IDLE_TIMEOUT_S
    server: _ProxyServer

    # -- connection plumbing ---------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)
        self._headers_sent = False

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # resets, broken pipes, shutdown during stop()
            self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("replayweb: %s - %s", self.address_string(), format % args)

    def version_string(self) -> str:
        return self.server_version

    # -- methods ---------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._guarded(head=False)

    def do_HEAD(self) -> None:
        self._guarded(head=True)

    def do_CONNECT(self) -> None:
        self._discard_body()
        self.server.owner.record("CONNECT", self.path, 405)
        self.close_connection = True
        self._send_text(
            405,
            "replayweb serves plain http:// only: CONNECT (https tunnelling) is not supported.\n",
            head=False,
            extra=(("Allow", "GET, HEAD"),),
        )

    def _method_not_allowed(self) -> None:
        self._discard_body()
        self.server.owner.record(self.command, self._absolute_url_guess(), 405)
        self._send_text(
            405,
            f"replayweb: method {self.command} is not supported (GET and HEAD only).\n",
            head=False,
            extra=(("Allow", "GET, HEAD"),),
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    # -- serving ---------------------------------------------------------------------------------

    def _guarded(self, head: bool) -> None:
        try:
            self._serve(head)
        except OSError:
            self.close_connection = True
        except Exception:
            log.exception("replayweb: internal error serving %s %s", self.command, self.path)
            self.close_connection = True
            if not self._headers_sent:
                with contextlib.suppress(OSError):
                    self._send_text(500, "replayweb internal error\n", head=head)

    def _serve(self, head: bool) -> None:
        self._discard_body()
        owner = self.server.owner
        target = self._split_target()
        if target is None:
            return
        host, path_qs = target
        url = f"http://{host}{path_qs}"
        site = owner.web.site(host)
        if site is None:
            # answered the way Squid answers a name it cannot resolve, so crawlers can tell a dead host
            # from a failing server behind a real proxy too
            owner.record(self.command, url, 503)
            self._send_text(
                503,
                f"replayweb: unknown host {host!r}: it is not part of the recorded web "
                "(a real proxy would fail to resolve it).\n",
                head=head,
                extra=[("X-Squid-Error", "ERR_DNS_FAIL 0")],
            )
            return
        route = site.lookup(path_qs) or site.not_found
        owner.record(self.command, url, route.status)
        if route.delay and owner.stop_event.wait(route.delay):
            self.close_connection = True  # stopping: drop the connection without an answer
            return
        self._send_route(site, route, head)

    def _split_target(self) -> tuple[str, str] | None:
        raw = self.path
        if not raw.startswith("/") and "://" in raw:
            try:
                parts = urlsplit(raw)
                hostname = parts.hostname
            except ValueError:
                self.server.owner.record(self.command, raw, 400)
                self._send_text(400, f"replayweb: cannot parse request target {raw!r}\n", head=False)
                return None
            if parts.scheme.lower() != "http":
                self.server.owner.record(self.command, raw, 502)
                self._send_text(502, f"replayweb: only http:// URLs are served, not {parts.scheme}://\n", head=False)
                return None
            host = normalise_host(hostname or "")
            path_qs = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        elif raw.startswith("/"):
            host_header = self.headers.get("Host")
            if not host_header:
                self.server.owner.record(self.command, raw, 400)
                self._send_text(400, "replayweb: origin-form request without a Host header\n", head=False)
                return None
            host = normalise_host(host_header)
            path_qs = raw
        else:
            self.server.owner.record(self.command, raw, 400)
            self._send_text(400, f"replayweb: cannot parse request target {raw!r}\n", head=False)
            return None
        if not host:
            self.server.owner.record(self.command, raw, 400)
            self._send_text(400, "replayweb: request has no host\n", head=False)
            return None
        return host, path_qs

    def _send_route(self, site: Site, route: Route, head: bool) -> None:
        headers: list[tuple[str, str]] = [*site.headers, *route.headers]
        if route.redirect is not None:
            location = route.redirect if route.redirect.startswith("http://") else f"http://{site.host}{route.redirect}"
            phrase = _phrase(route.status)
            body = (
                f"<html>\r\n<head><title>{route.status} {phrase}</title></head>\r\n<body>\r\n"
                f"<center><h1>{route.status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
                "</body>\r\n</html>\r\n"
            ).encode()
            headers.append(("Location", location))
            self._send(route.status, "text/html", len(body), [body], headers, head)
        elif route.generate == "huge":
            length, chunks = huge_html(int(route.size_mb * 1024 * 1024))
            self._send(route.status, route.header_content_type, length, chunks, headers, head)
        elif route.generate == "binary":
            body = png_bytes(f"{site.host}{route.key}")
            self._send(route.status, route.header_content_type, len(body), [body], headers, head)
        else:
            self._send(route.status, route.header_content_type, len(route.body), [route.body], headers, head)

    def _send(
        self,
        status: int,
        content_type: str,
        length: int,
        chunks: Iterable[bytes],
        headers: Iterable[tuple[str, str]],
        head: bool,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self._headers_sent = True
        if head:
            return
        stop = self.server.owner.stop_event
        for chunk in _split(chunks):
            if stop.is_set():
                self.close_connection = True
                return
            self.wfile.write(chunk)
        self.wfile.flush()

    def _send_text(self, status: int, text: str, head: bool, extra: Iterable[tuple[str, str]] = ()) -> None:
        body = text.encode("utf-8")
        self._send(status, "text/plain; charset=utf-8", len(body), [body], extra, head)

    def _discard_body(self) -> None:
        length = self.headers.get("Content-Length")
        if length and length.isdigit() and 0 < int(length) <= 1 << 20:
            self.rfile.read(int(length))
        elif length:
            self.close_connection = True

    def _absolute_url_guess(self) -> str:
        if self.path.startswith("/"):
            return f"http://{normalise_host(self.headers.get('Host', ''))}{self.path}"
        return self.path


def _split(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        for start in range(0, len(chunk), _WRITE_CHUNK):
            yield chunk[start : start + _WRITE_CHUNK]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Redirect"
