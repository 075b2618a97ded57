"""Replay web: the proxy server's behaviour and the recorded web's internal consistency.

Everything runs on loopback through ``ReplayWeb`` used as an HTTP proxy by ``urllib``.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
import yaml

from replayweb import DEFAULT_WEB_DIR, ReplayWeb, WebError, demo_sources_path, load_ground_truth, load_web
from replayweb.site import route_key
from replayweb.truth import path_and_query
from spiders.serp import ENGINES

UTF8_PAGE = "http://www.hzguahao-vip.com/lianxi.html"
GBK_HEADER_PAGE = "http://www.zhuanjiahao365.cn/yiyuan/hdyy.html"
GB18030_META_PAGE = "http://www.mingyihao88.com/"
GBK_BARE_PAGE = "http://www.hz-daiguahao.net/"
FORUM = "http://bbs.jiankang-luntan.cn"


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # urllib's ProxyHandler consults no_proxy even with an explicit proxy map.
    for var in ("no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def web() -> Iterator[ReplayWeb]:
    with ReplayWeb() as server:
        yield server


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _opener(web: ReplayWeb, follow_redirects: bool = True) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({"http": web.proxy_url})]
    if not follow_redirects:
        handlers.append(_NoRedirect())
    return urllib.request.build_opener(*handlers)


def fetch(
    web: ReplayWeb, url: str, method: str = "GET", follow_redirects: bool = True, timeout: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with _opener(web, follow_redirects).open(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers.items()), exc.read()


# -- charsets ---------------------------------------------------------------------------------------


def test_utf8_page_declares_charset_in_header(web: ReplayWeb) -> None:
    status, headers, body = fetch(web, UTF8_PAGE)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body)
    assert "预约热线" in body.decode("utf-8")


def test_gbk_page_is_gbk_bytes_with_header_charset(web: ReplayWeb) -> None:
    status, headers, body = fetch(web, GBK_HEADER_PAGE)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=gbk"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gbk")
    assert "王喆" in text  # a GBK-only character, although the page's <meta> claims gb2312
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")


def test_gb18030_page_declares_charset_only_in_meta(web: ReplayWeb) -> None:
    _, headers, body = fetch(web, GB18030_META_PAGE)
    assert headers["Content-Type"] == "text/html"
    assert b"charset=gb18030" in body
    text = body.decode("gb18030")
    assert "瀚州名医加号网" in text and "📱" in text
    with pytest.raises(UnicodeDecodeError):
        body.decode("gbk")  # the emoji exists only in GB18030
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_gbk_page_without_any_charset_declaration(web: ReplayWeb) -> None:
    _, headers, body = fetch(web, GBK_BARE_PAGE)
    assert headers["Content-Type"] == "text/html"
    assert b"charset" not in body.lower()
    assert "代挂号服务说明" in body.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


# -- status codes, redirects, methods ---------------------------------------------------------------


def test_permanent_redirect_has_status_and_absolute_location(web: ReplayWeb) -> None:
    status, headers, _ = fetch(web, "http://www.hzguahao-vip.com/index.php", follow_redirects=False)
    assert status == 301
    assert headers["Location"] == "http://www.hzguahao-vip.com/"
    status, _, body = fetch(web, "http://www.hzguahao-vip.com/index.php")
    assert status == 200 and "瀚州名医挂号服务中心" in body.decode("utf-8")


def test_redirect_loop_bounces_between_two_routes(web: ReplayWeb) -> None:
    status, headers, _ = fetch(web, f"{FORUM}/connect.php?mod=login", follow_redirects=False)
    assert (status, headers["Location"]) == (302, f"{FORUM}/member.php?mod=connect")
    status, headers, _ = fetch(web, headers["Location"], follow_redirects=False)
    assert (status, headers["Location"]) == (302, f"{FORUM}/connect.php?mod=login")


def test_unknown_host_answers_like_squid_naming_the_host(web: ReplayWeb) -> None:
    status, headers, body = fetch(web, "http://www.hzgh-kuaitong.com/")
    assert status == 503
    assert headers["X-Squid-Error"] == "ERR_DNS_FAIL 0"
    assert headers["Content-Type"].startswith("text/plain")
    assert "www.hzgh-kuaitong.com" in body.decode("utf-8")


def test_unknown_path_gets_the_hosts_404_page(web: ReplayWeb) -> None:
    status, headers, body = fetch(web, f"{FORUM}/thread-1-1-1.html")
    assert status == 404
    assert "抱歉，指定的主题不存在" in body.decode("utf-8")
    assert int(headers["Content-Length"]) == len(body)
    status, _, body = fetch(web, "http://www.jiachang-caipu.com/nope")  # no not_found: built-in page
    assert status == 404 and b"404 Not Found" in body


def test_query_routes_match_in_any_order_and_fall_back_to_the_path(web: ReplayWeb) -> None:
    assert fetch(web, f"{FORUM}/home.php?uid=88231&mod=space")[0] == 200
    assert fetch(web, f"{FORUM}/home.php?mod=space&uid=1")[0] == 404
    assert fetch(web, f"{FORUM}/forum-36-1.html?page=1")[0] == 200


def test_server_error_route(web: ReplayWeb) -> None:
    status, _, body = fetch(web, f"{FORUM}/plugin.php?id=hzsign")
    assert status == 500 and "Discuz! System Error" in body.decode("utf-8")


def test_head_sends_headers_without_body(web: ReplayWeb) -> None:
    _, get_headers, get_body = fetch(web, UTF8_PAGE)
    status, headers, body = fetch(web, UTF8_PAGE, method="HEAD")
    assert status == 200 and body == b""
    assert headers["Content-Length"] == get_headers["Content-Length"] == str(len(get_body))


def test_connect_and_post_are_refused(web: ReplayWeb) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
    try:
        conn.request("CONNECT", "www.hzguahao-vip.com:443")
        response = conn.getresponse()
        assert response.status == 405
        assert "http://" in response.read().decode("utf-8")
    finally:
        conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
    try:
        conn.request("POST", "http://www.hzguahao-vip.com/", body=b"a=1")
        response = conn.getresponse()
        assert response.status == 405
        response.read()
    finally:
        conn.close()


def test_origin_form_uses_the_host_header_and_keeps_the_connection_alive(web: ReplayWeb) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
    try:
        for path in ("/", "/bsfw/jbts.html", "/nope"):
            conn.request("GET", path, headers={"Host": "wsjkw.hanjiang.gov.cn"})
            response = conn.getresponse()
            body = response.read()
            assert len(body) == int(response.headers["Content-Length"])
            assert response.status == (404 if path == "/nope" else 200)
            assert "瀚江省卫生健康委员会" in body.decode("utf-8")
    finally:
        conn.close()


def test_robots_txt_is_plain_text(web: ReplayWeb) -> None:
    status, headers, body = fetch(web, f"{FORUM}/robots.txt")
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Disallow: /home.php" in body.decode("utf-8")


# -- hostile bodies ---------------------------------------------------------------------------------


def test_huge_page_is_valid_html_of_the_announced_size(web: ReplayWeb) -> None:
    size = 12 * 1024 * 1024
    _, headers, _ = fetch(web, f"{FORUM}/archiver/", method="HEAD")
    assert headers["Content-Length"] == str(size)
    with _opener(web).open(f"{FORUM}/archiver/", timeout=10) as response:
        first = response.read(4096)
        total = len(first)
        last = b""
        while chunk := response.read(1 << 20):
            total += len(chunk)
            last = chunk
    assert total == size
    assert first.startswith(b"<!DOCTYPE html>") and last.endswith(b"</html>\n")


def test_binary_body_is_mislabelled_as_html(web: ReplayWeb) -> None:
    status, headers, body = fetch(web, f"{FORUM}/forum.php?mod=attachment&aid=MTIwNDd8YjI0ZGU3")
    assert status == 200 and headers["Content-Type"] == "text/html"
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    _, headers, image = fetch(web, "http://www.hzguahao-vip.com/images/ewm.png")
    assert headers["Content-Type"] == "image/png" and image.startswith(b"\x89PNG")


# -- delays and shutdown ----------------------------------------------------------------------------


def _write_site(root: Path, host: str, site_yaml: str, files: dict[str, str] | None = None) -> Path:
    folder = root / host
    folder.mkdir(parents=True)
    (folder / "_site.yaml").write_text(site_yaml, encoding="utf-8")
    for name, text in (files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return root


def test_delay_is_honoured(tmp_path: Path) -> None:
    root = _write_site(tmp_path, "www.slow-test.cn", "routes:\n  /: {text: ok, delay: 0.6}\n  /fast: {text: ok}\n")
    with ReplayWeb(root) as server:
        started = time.monotonic()
        assert fetch(server, "http://www.slow-test.cn/fast")[0] == 200
        assert time.monotonic() - started < 0.5
        started = time.monotonic()
        assert fetch(server, "http://www.slow-test.cn/")[2] == b"ok"
        assert time.monotonic() - started >= 0.55


def test_client_timeout_on_the_slow_forum_page(web: ReplayWeb) -> None:
    started = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        fetch(web, f"{FORUM}/misc.php?mod=stat", timeout=0.5)
    assert time.monotonic() - started < 2


def test_stop_is_prompt_while_a_slow_route_is_sleeping() -> None:
    server = ReplayWeb().start()
    errors: list[BaseException] = []

    def slow_fetch() -> None:
        try:
            fetch(server, f"{FORUM}/misc.php?mod=stat", timeout=10)
        except Exception as exc:  # the connection is dropped by stop()
            errors.append(exc)

    thread = threading.Thread(target=slow_fetch, daemon=True)
    thread.start()
    deadline = time.monotonic() + 2
    while not server.requests_log and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0
    thread.join(timeout=2)
    assert not thread.is_alive() and errors
    server.stop()  # idempotent


def test_requests_log_records_method_url_and_status(tmp_path: Path) -> None:
    root = _write_site(tmp_path, "www.log-test.cn", "routes:\n  /: {text: ok}\n")
    with ReplayWeb(root) as server:
        fetch(server, "http://www.log-test.cn/")
        fetch(server, "http://www.log-test.cn/x?y=1", method="HEAD")
        fetch(server, "http://nowhere.example/")
        assert server.requests_log == [
            ("GET", "http://www.log-test.cn/", 200),
            ("HEAD", "http://www.log-test.cn/x?y=1", 404),
            ("GET", "http://nowhere.example/", 503),
        ]
        server.clear_log()
        assert server.requests_log == []


def test_proxy_url_and_port() -> None:
    server = ReplayWeb()
    with pytest.raises(RuntimeError):
        _ = server.proxy_url
    with server:
        assert server.port > 0
        assert server.proxy_url == f"http://127.0.0.1:{server.port}"


# -- schema validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site_yaml", "message"),
    [
        ("routes:\n  /: {fiel: index.html}\n", "route '/': unknown key(s) fiel"),
        ("routes:\n  /: {file: missing.html}\n", "file 'missing.html' does not exist"),
        ("routes:\n  /: {file: index.html, text: hi}\n", "needs exactly one of file, text, redirect, generate"),
        ("routes:\n  /: {}\n", "needs exactly one of"),
        ("routes:\n  index.html: {file: index.html}\n", "paths must be strings starting with '/'"),
        ("routes:\n  /: {redirect: /nowhere}\n", "redirect target '/nowhere' is not a route"),
        ("routes:\n  /: {redirect: /a, status: 200}\n  /a: {text: a}\n", "a redirect needs a 3xx status"),
        ("routes:\n  /: {file: index.html, charset: klingon}\n", "unknown charset 'klingon'"),
        ("routes:\n  /: {file: index.html, charset: gbk}\n", "cannot be encoded as gbk"),
        ("routes:\n  /: {generate: giant}\n", "generate must be one of huge, binary"),
        ("routes:\n  /: {generate: huge, size_mb: -1}\n", "size_mb must be a number"),
        ("routes:\n  /: {text: hi, delay: forever}\n", "delay must be a number of seconds"),
        ("routes:\n  /: {text: hi, status: 999}\n", "status must be an HTTP status code"),
        ("routes:\n  /: {text: hi, headers: {Content-Length: '1'}}\n", "is set by the server"),
        ("rutes:\n  /: {text: hi}\n", "top level: unknown key(s) rutes"),
        ("routes: [1, 2]\n", "'routes' must be a non-empty mapping"),
        ("routes:\n  /: {text: hi\n", "invalid YAML"),
        ("routes:\n  /a?x=1&y=2: {text: a}\n  /a?y=2&x=1: {text: b}\n", "duplicates another route"),
    ],
)
def test_schema_errors_name_file_route_and_problem(tmp_path: Path, site_yaml: str, message: str) -> None:
    _write_site(tmp_path, "www.bad-site.cn", site_yaml, {"index.html": "<p>页面 ➕</p>"})
    with pytest.raises(WebError) as info:
        load_web(tmp_path)
    text = str(info.value)
    assert message in text
    assert "www.bad-site.cn" in text and "_site.yaml" in text


def test_folder_without_site_file_or_with_bad_name_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "www.empty.cn").mkdir()
    with pytest.raises(WebError, match=r"has no _site\.yaml"):
        load_web(tmp_path)
    with pytest.raises(WebError, match="does not exist"):
        load_web(tmp_path / "missing")
    (tmp_path / "www.empty.cn").rmdir()
    (tmp_path / "Not_A_Host").mkdir()
    with pytest.raises(WebError, match="not a lower-case host name"):
        ReplayWeb(tmp_path)


# -- the recorded web is internally consistent ------------------------------------------------------


class _Links(HTMLParser):
    ATTRS: ClassVar[dict[str, str]] = {
        "a": "href",
        "area": "href",
        "img": "src",
        "script": "src",
        "link": "href",
        "iframe": "src",
    }

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = self.ATTRS.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.links.append(value.strip())


def _page_links(body: str, base: str) -> list[str]:
    parser = _Links()
    parser.feed(body)
    parser.close()
    out = []
    for href in parser.links:
        if href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        out.append(urldefrag(urljoin(base, href)).url)
    return out


def test_every_route_loads_and_file_routes_exist() -> None:
    web = load_web()
    assert len(web.sites) >= 12
    pages = 0
    for site in web.sites.values():
        for route in site.routes.values():
            if route.file is not None:
                assert (site.directory / route.file).is_file()
                assert route.body
            pages += route.is_page
    assert pages >= 35


def test_every_link_points_to_a_route_or_the_deliberate_unknown_host() -> None:
    web = load_web()
    unknown = {e.host for e in load_ground_truth() if e.failure == "unknown_host"}
    problems = []
    for site in web.sites.values():
        for key, route in site.routes.items():
            if route.file is None or not route.is_page:
                continue
            base = site.url(key)
            for link in _page_links(route.body.decode(route.charset or "utf-8"), base):
                parts = urlsplit(link)
                target = web.site(parts.hostname or "")
                if parts.scheme != "http":
                    problems.append(f"{base}: non-http link {link}")
                elif target is None:
                    if parts.hostname not in unknown:
                        problems.append(f"{base}: link to unrecorded host {link}")
                elif target.lookup(path_and_query(link)) is None:
                    problems.append(f"{base}: link to a missing route {link}")
    assert not problems, "\n".join(problems)


def test_ground_truth_and_routes_cover_each_other() -> None:
    web = load_web()
    truth = {e.url: e for e in load_ground_truth()}
    truth_keys = {(e.host, route_key(e.path)) for e in truth.values()}
    pages = {(host, key) for host, site in web.sites.items() for key, route in site.routes.items() if route.is_page}
    assert pages - truth_keys == set(), "pages missing from ground_truth.yaml"
    for url, entry in truth.items():
        site = web.site(entry.host)
        if entry.failure == "unknown_host":
            assert site is None
            continue
        assert site is not None, url
        route = site.lookup(entry.path)
        assert route is not None, url
        if route.is_redirect and entry.failure != "redirect_loop":
            assert route.status == 301, f"{url}: only permanent redirects stand for their target page"


def test_broken_entries_fail_the_way_ground_truth_says(web: ReplayWeb) -> None:
    for entry in load_ground_truth():
        if entry.failure is None or entry.failure == "timeout":
            continue
        if entry.failure == "too_large":
            status, headers, _ = fetch(web, entry.url, method="HEAD")
            assert status == 200 and int(headers["Content-Length"]) > 10 * 1024 * 1024, entry.url
            continue
        status, headers, body = fetch(web, entry.url, follow_redirects=False)
        if entry.failure == "redirect_loop":
            seen = {entry.url}
            while status in (301, 302):
                location = headers["Location"]
                if location in seen:
                    break
                seen.add(location)
                status, headers, body = fetch(web, location, follow_redirects=False)
            assert status in (301, 302), f"{entry.url} does not loop"
        else:
            expected = {"http_404": 404, "http_500": 500, "binary": 200, "unknown_host": 503}[entry.failure]
            assert status == expected, entry.url
            if entry.failure == "binary":
                assert headers["Content-Type"].startswith("text/html") and body.startswith(b"\x89PNG")
    slow = [e for e in load_ground_truth() if e.failure == "timeout"]
    assert slow
    for entry in slow:
        site = web.web.site(entry.host)
        assert site is not None
        route = site.lookup(entry.path)
        assert route is not None and route.delay >= 4


def test_ground_truth_counts_and_labels() -> None:
    truth = load_ground_truth()
    by_label: dict[str, int] = {}
    for entry in truth:
        by_label[entry.label] = by_label.get(entry.label, 0) + 1
    assert by_label["scalper_service"] >= 10 and by_label["negative"] >= 10 and by_label["hub"] >= 3
    assert by_label["medical_tout"] >= 1 and by_label["illegal_medical_ad"] >= 1
    assert {e.failure for e in truth if e.failure} == {
        "redirect_loop",
        "http_404",
        "http_500",
        "timeout",
        "too_large",
        "binary",
        "unknown_host",
    }
    assert any(not e.reached for e in truth if e.hit), "some hits must lie beyond the demo crawl"


def test_ground_truth_schema_errors_are_clear(tmp_path: Path) -> None:
    _write_site(tmp_path, "www.gt-test.cn", "routes:\n  /: {text: hi, content_type: text/html}\n")
    cases = [
        ({"url": "http://www.gt-test.cn/", "label": "spam", "hit": True, "reached": True}, "label must be one of"),
        ({"url": "http://www.gt-test.cn/", "label": "negative", "hit": True, "reached": True}, "needs hit: false"),
        (
            {"url": "http://www.gt-test.cn/", "label": "scalper_service", "hit": True, "reached": True},
            "category: scalper_service",
        ),
        ({"url": "http://www.gt-test.cn/", "label": "broken", "hit": False, "reached": True}, "need failure"),
        ({"url": "http://www.gt-test.cn/x", "label": "hub", "hit": False, "reached": True}, "not a route"),
        (
            {
                "url": "http://www.gt-test.cn/",
                "label": "hub",
                "hit": False,
                "reached": True,
                "contacts": {"mobile": ["12345"]},
            },
            "contacts.mobile: '12345'",
        ),
        (
            {
                "url": "http://www.gt-test.cn/",
                "label": "hub",
                "hit": False,
                "reached": True,
                "contacts": {"wechat": ["HasCaps99"]},
            },
            "contacts.wechat",
        ),
        ({"url": "http://www.gt-test.cn/", "label": "hub", "hit": False}, "missing required key 'reached'"),
        (
            {"url": "http://www.gt-test.cn/", "label": "hub", "hit": False, "reached": True, "colour": 1},
            "unknown key(s) colour",
        ),
    ]
    for entry, message in cases:
        (tmp_path / "ground_truth.yaml").write_text(yaml.safe_dump({"pages": [entry]}), encoding="utf-8")
        with pytest.raises(WebError) as info:
            load_ground_truth(tmp_path)
        assert message in str(info.value) and "ground_truth.yaml" in str(info.value)


def test_demo_sources_start_on_recorded_hosts() -> None:
    data = yaml.safe_load(demo_sources_path().read_text(encoding="utf-8"))
    web = load_web()
    names = set()
    for source in data["sources"]:
        assert source["kind"] in ("site", "search") and source["obey_robots"] is True
        assert (source["max_depth"], source["follow_external_hops"]) == (2, 1)
        assert len(source["schedule"].split()) == 5
        names.add(source["name"])
        if source["kind"] == "search":  # starts from queries on the recorded engines
            assert not source.get("start_urls") and source["search"]["https"] is False
            for engine in source["search"]["engines"]:
                assert web.site(ENGINES[engine].host) is not None, engine
        for url in source.get("start_urls", []):
            site = web.site(urlsplit(url).hostname or "")
            assert site is not None and site.lookup(path_and_query(url)) is not None, url
    assert len(names) == len(data["sources"]) >= 4
    assert demo_sources_path().parent == DEFAULT_WEB_DIR


def test_module_entry_point_serves_in_the_foreground() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "replayweb", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        proxy = next(line.split()[2] for line in lines if " proxy " in line)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
        with opener.open("http://www.hzxww.cn/", timeout=5) as response:
            assert "瀚州新闻网" in response.read().decode("utf-8")
    finally:
        proc.terminate()
        proc.communicate(timeout=5)


def test_concurrent_clients_are_served_without_stalls(web: ReplayWeb) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        for _ in range(5):
            try:
                assert fetch(web, UTF8_PAGE)[0] == 200
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(24)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors
    assert time.monotonic() - started < 2.0  # a tiny listen backlog would cost ~1 s SYN retries


def test_malformed_request_targets_get_400_and_the_server_survives(web: ReplayWeb) -> None:
    for line in (b"GET http://[::1/ HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n", b"\x00\x01junk\r\n\r\n"):
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
        try:
            conn.connect()
            assert conn.sock is not None
            conn.sock.sendall(line)
            assert conn.sock.recv(64).startswith(b"HTTP/1.")
        finally:
            conn.close()
    assert fetch(web, UTF8_PAGE)[0] == 200
