"""The evidence fetcher: fetch one URL exactly as a server answers it, following redirects, and keep every
exchange byte for byte for the WARC file.

A small HTTP/1.1 client over a plain socket (TLS through a proxy's CONNECT tunnel for https) instead of a
library client, because evidence needs the *raw* request and response (header order, spelling and body
bytes as sent, chunked framing included), and because a process-wide patch such as ``warcio.capture_http``
would also record other threads' traffic. Every answer is bounded in size and time.

The resolved address is recorded with how it was obtained: without a proxy it is the peer address of the
connection (what DNS gave this machine); through a proxy the proxy resolves the name and does not disclose
the address, so the peer is the proxy and an optional lookup with this machine's resolver is added.
"""

from __future__ import annotations

import concurrent.futures
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

MAX_HEADER_BYTES = 64 * 1024
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """The URL could not be fetched; ``reason`` is a short code (dns_error, timeout, connection_refused...)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class Exchange:
    """One request and its answer, as bytes on the wire."""

    url: str
    request: bytes
    response: bytes  # status line, headers and body, as received (body possibly cut at the size limit)
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # de-chunked payload
    peer_address: str
    truncated: bool = False

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


@dataclass
class FetchResult:
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def final(self) -> Exchange:
        return self.exchanges[-1]

    @property
    def final_url(self) -> str:
        return self.exchanges[-1].url

    @property
    def redirect_chain(self) -> list[dict[str, object]]:
        return [{"url": e.url, "status": e.status, "location": e.header("Location")} for e in self.exchanges]


def _parse_proxy(proxy: str) -> tuple[str, int]:
    parts = urlsplit(proxy)
    return parts.hostname or "127.0.0.1", parts.port or 8080


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while pos < len(data):
        end = data.find(b"\r\n", pos)
        if end < 0:
            break
        try:
            size = int(data[pos:end].split(b";")[0].strip() or b"0", 16)
        except ValueError:
            break
        if size == 0:
            break
        out += data[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2
    return bytes(out)


def _read_all(sock: socket.socket, limit: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    total = 0
    header_end = -1
    expected: int | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timeout", "no complete answer before the time limit")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise FetchError("timeout", "no complete answer before the time limit") from None
        except OSError as exc:
            raise FetchError("connection_error", str(exc)) from None
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        total += len(chunk)
        if header_end < 0:
            joined = b"".join(chunks)
            header_end = joined.find(b"\r\n\r\n")
            if header_end < 0 and total > MAX_HEADER_BYTES:
                raise FetchError("bad_response", "response headers too large")
            if header_end >= 0:
                expected = _content_length(joined[:header_end])
        if total > limit:
            return b"".join(chunks)[:limit], True
        if expected is not None and total >= header_end + 4 + expected:
            return b"".join(chunks), False


def _content_length(head: bytes) -> int | None:
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ")
    if len(status) > 1 and status[1] in (b"204", b"304"):
        return 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return int(value.strip())
            except ValueError:
                return None
    return None


def _parse_response(raw: bytes, url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise FetchError("bad_response", f"no complete HTTP header from {url}")
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise FetchError("bad_response", f"not an HTTP answer: {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    if any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
        body = _dechunk(body)
    return int(parts[1]), headers, body


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError("dns_error", f"{host}: {exc}") from None
    last: Exception | None = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except TimeoutError as exc:
            last = exc
            sock.close()
        except OSError as exc:
            last = exc
            sock.close()
    if isinstance(last, TimeoutError):
        raise FetchError("timeout", f"connecting to {host}:{port}")
    raise FetchError("connection_refused", f"{host}:{port}: {last}")


def fetch_once(url: str, *, proxy: str, user_agent: str, timeout: float, max_bytes: int) -> Exchange:
    """One GET of ``url`` (no redirect following), through ``proxy`` when given."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad_url", f"not an http(s) URL: {url[:200]}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host_header = parts.netloc.rpartition("@")[2]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    deadline = time.monotonic() + timeout
    sock = _connect(*_parse_proxy(proxy), timeout) if proxy else _connect(host, port, timeout)
    try:
        peer = sock.getpeername()[0]
        target = path
        if parts.scheme == "https":
            if proxy:
                connect = f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode("ascii")
                sock.sendall(connect)
                answer = b""
                while b"\r\n\r\n" not in answer and len(answer) < MAX_HEADER_BYTES:
                    piece = sock.recv(4096)
                    if not piece:
                        break
                    answer += piece
                status_line = answer.split(b"\r\n", 1)[0]
                if b" 200" not in status_line:
                    raise FetchError("proxy_refused", status_line.decode("iso-8859-1")[:120])
            # Evidence of a site with a broken certificate is still evidence: no verification, recorded as such.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            sock = context.wrap_socket(sock, server_hostname=host)
        elif proxy:
            target = url  # absolute-form request to a forward proxy
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {user_agent}\r\n"
            "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\nAccept-Encoding: identity\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        try:
            sock.sendall(request)
        except OSError as exc:
            raise FetchError("connection_error", str(exc)) from None
        raw, truncated = _read_all(sock, max_bytes, deadline)
    finally:
        sock.close()
    status, headers, body = _parse_response(raw, url)
    return Exchange(url, request, raw, status, headers, body, peer, truncated)


def fetch_chain(
    url: str, *, proxy: str, user_agent: str, timeout: float, max_bytes: int, max_redirects: int
) -> FetchResult:
    """Fetch ``url`` following up to ``max_redirects`` redirects; every hop is kept."""
    result = FetchResult()
    seen: set[str] = set()
    current = url
    for _ in range(max_redirects + 1):
        exchange = fetch_once(current, proxy=proxy, user_agent=user_agent, timeout=timeout, max_bytes=max_bytes)
        result.exchanges.append(exchange)
        seen.add(current)
        location = exchange.header("Location")
        if exchange.status not in REDIRECT_STATUSES or not location:
            return result
        current = urljoin(current, location)
        if current in seen or not current.startswith(("http://", "https://")):
            return result  # a loop, or a redirect to another scheme: the chain so far is the evidence
    return result


def lookup_addresses(host: str, timeout: float = 3.0) -> tuple[list[str], str]:
    """This machine's resolver's addresses for ``host`` (bounded in time), and an error text if it failed."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        future = pool.submit(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM)
        infos = future.result(timeout=timeout)
        return sorted({info[4][0] for info in infos}), ""
    except concurrent.futures.TimeoutError:
        return [], "lookup timed out"
    except OSError as exc:
        return [], str(exc)
    finally:
        pool.shutdown(wait=False)
