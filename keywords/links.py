"""The link signal: pages on known-bad domains or URLs, pages linking to them, and (through
`keywords.lookalike`) pages impersonating a hospital or an official booking platform.

`KnownBad` holds what the analyst and the confirmed hits say is bad, normalised three ways: registrable
domains (``bjguahao.net.cn`` covers every host under it), hosts (``m.example.cn`` covers itself and its
subdomains only) and URLs (a single post on a platform). Lines of a known-bad file are forgiving: a scheme,
``www.``, trailing slashes, upper case and IDN host names (``医院.中国`` or its ``xn--`` form) all normalise to
the same entry.

`LinkSignal` turns them into evidence (`keywords.signals`), every reason with ``start == end == -1``:

* ``link.on_known_bad`` -- the page itself is on a known-bad domain or host, or is a known-bad URL;
* ``link.to_known_bad`` -- the page links to known-bad domains: one reason per distinct bad domain (its
  ``text`` is the link), the first weighing `TO_BAD_WEIGHT` and each further one half the previous, so a page
  linking to many adds up to at most twice `TO_BAD_WEIGHT`. QR codes whose payload is a URL count as links.

Pages on official hosts (the lexicon's ``domains.txt`` allow-list: government, booking platforms, hospitals;
and the hospitals' own domains in ``hospitals.tsv``) get no link evidence at all: their links to bad sites are
warnings and reports, not referrals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from crawler.domains import registrable_domain
from keywords.domains import OfficialDomains
from keywords.signals import PageInput, SignalOutput, SignalReason

if TYPE_CHECKING:
    from keywords.lookalike import Hospitals
    from keywords.normalisation import NormalisedText

__all__ = [
    "BUNDLED_KNOWN_BAD",
    "ON_BAD_DOMAIN_WEIGHT",
    "ON_BAD_URL_WEIGHT",
    "TO_BAD_WEIGHT",
    "KnownBad",
    "KnownBadMatch",
    "LinkSignal",
    "load_known_bad",
    "normalise_host",
    "url_key",
]

#: The bundled list of publicly reported clone and scalper sites (analysts extend it with their own file).
BUNDLED_KNOWN_BAD = Path(__file__).resolve().parent / "data" / "known_bad.txt"

ON_BAD_URL_WEIGHT = 40.0  # the page is a URL the analyst listed or confirmed
ON_BAD_DOMAIN_WEIGHT = 30.0  # the page is on a listed or confirmed site
TO_BAD_WEIGHT = 12.0  # the first bad domain linked; each further one weighs half the previous
MAX_BAD_LINKS = 6  # distinct bad domains reported per page
MAX_LINKS_READ = 2000  # links of one page looked at
CATEGORIES = ("scalper_service",)


def normalise_host(host: str) -> str:
    """Lower-case ASCII (IDNA) form of a host, without a trailing dot, port or leading ``www.``."""
    host = host.strip().lower().rstrip(".")
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    if host.startswith("[") or host.count(":") > 1:  # IPv6 literal
        return host.strip("[]")
    host = host.split(":", 1)[0]
    if not host.isascii():
        labels = []
        for label in host.split("."):
            try:
                labels.append(label.encode("idna").decode("ascii") if label and not label.isascii() else label)
            except UnicodeError:
                labels.append(label)
        host = ".".join(labels)
    return host.removeprefix("www.")


def _split(url: str) -> tuple[str, str, str] | None:
    """(host, path, query) of an absolute URL or a scheme-less ``host/path``; None when there is no host."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url.lstrip("/")
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return None
    host = normalise_host(netloc)
    if not host:
        return None
    return host, parts.path, parts.query


def url_key(url: str) -> str | None:
    """A URL's identity for the known-bad list: host (as `normalise_host`), path without trailing slashes,
    query sorted; no scheme, no fragment. None when the URL has no host."""
    split = _split(url)
    if split is None:
        return None
    host, path, query = split
    path = path.rstrip("/")
    key = host + path
    if query:
        key += "?" + urlencode(sorted(parse_qsl(query, keep_blank_values=True)))
    return key


@dataclass(frozen=True, slots=True)
class KnownBadMatch:
    """Why a URL is known-bad: ``kind`` is what matched, ``entry`` the normalised entry."""

    kind: Literal["url", "host", "domain"]
    entry: str


@dataclass(frozen=True, slots=True)
class KnownBad:
    """Normalised known-bad registrable domains, hosts and URL keys (see `url_key`)."""

    domains: frozenset[str] = frozenset()
    hosts: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> KnownBad:
        """Parse an analyst's list: one domain, host or URL per line; ``#`` starts a comment (also after an
        entry); blank and unparsable lines are skipped. A bare host or a URL with no path names a site: its
        registrable domain when the host is that domain (``www.`` ignored), else just that host. A URL with a
        path or query names one page."""
        domains: set[str] = set()
        hosts: set[str] = set()
        urls: set[str] = set()
        for raw in lines:
            entry = raw.split("#", 1)[0].strip()
            if not entry:
                continue
            split = _split(entry)
            if split is None:
                continue
            host, path, query = split
            if path.strip("/") or query:
                key = url_key(entry)
                if key:
                    urls.add(key)
            elif registrable_domain(host) == host:
                domains.add(host)
            else:
                hosts.add(host)
        return cls(frozenset(domains), frozenset(hosts), frozenset(urls))

    @classmethod
    def from_file(cls, path: Path) -> KnownBad:
        return cls.from_lines(path.read_text(encoding="utf-8-sig").splitlines())

    def __or__(self, other: KnownBad) -> KnownBad:
        return KnownBad(self.domains | other.domains, self.hosts | other.hosts, self.urls | other.urls)

    def __len__(self) -> int:
        return len(self.domains) + len(self.hosts) + len(self.urls)

    def __bool__(self) -> bool:
        return bool(self.domains or self.hosts or self.urls)

    def match(self, url: str) -> KnownBadMatch | None:
        """The known-bad entry ``url`` falls under (its exact URL first, then its host, then its domain)."""
        if not self:
            return None
        split = _split(url)
        if split is None:
            return None
        host = split[0]
        if self.urls:
            key = url_key(url)
            if key in self.urls:
                return KnownBadMatch("url", key)
        if self.hosts:
            labels = host.split(".")
            for i in range(len(labels) - 1):
                parent = ".".join(labels[i:])
                if parent in self.hosts:
                    return KnownBadMatch("host", parent)
        domain = registrable_domain(host)
        if domain in self.domains:
            return KnownBadMatch("domain", domain)
        return None


def load_known_bad(*paths: Path | None, bundled: bool = True) -> KnownBad:
    """The bundled list (unless ``bundled`` is false) merged with each given file; None paths are skipped."""
    known = KnownBad.from_file(BUNDLED_KNOWN_BAD) if bundled else KnownBad()
    for path in paths:
        if path is not None:
            known = known | KnownBad.from_file(path)
    return known


def _default_official_domains() -> tuple[str, ...]:
    from keywords.lexicon import load_lexicon

    return load_lexicon().official_domains


class LinkSignal:
    """Evidence from where a page is and what it links to; also runs the look-alike checks of
    `keywords.lookalike` when ``hospitals`` is given.

    ``official_domains`` is the lexicon's allow-list (``Lexicon.official_domains``); None loads the bundled
    lexicon's. Pure and thread-compatible once built.
    """

    name = "links"

    def __init__(
        self,
        known_bad: KnownBad,
        hospitals: Hospitals | None = None,
        *,
        official_domains: Iterable[str] | None = None,
    ) -> None:
        self.known_bad = known_bad
        self.hospitals = hospitals
        entries = tuple(official_domains) if official_domains is not None else _default_official_domains()
        self._official = OfficialDomains(entries)

    def is_official(self, url: str) -> bool:
        """Is ``url`` on the lexicon's allow-list or on a listed hospital's own domain?"""
        if self._official.match(url) is not None:
            return True
        return self.hospitals is not None and self.hospitals.is_official_url(url)

    def evaluate(self, page: PageInput, normalised: NormalisedText) -> SignalOutput:
        if page.url and self.is_official(page.url):
            return SignalOutput()
        reasons: list[SignalReason] = []
        if page.url:
            reasons.extend(self._on_known_bad(page.url))
            if self.hospitals is not None:
                reasons.extend(self.hospitals.lookalike_reasons(page.url, page.text))
        reasons.extend(self._to_known_bad(page))
        return SignalOutput(reasons=tuple(reasons))

    def _on_known_bad(self, url: str) -> list[SignalReason]:
        found = self.known_bad.match(url)
        if found is None:
            return []
        weight = ON_BAD_URL_WEIGHT if found.kind == "url" else ON_BAD_DOMAIN_WEIGHT
        return [SignalReason("link.on_known_bad", url, -1, -1, weight, "core", CATEGORIES)]

    def _to_known_bad(self, page: PageInput) -> list[SignalReason]:
        if not self.known_bad:
            return []
        own_split = _split(page.url) if page.url else None
        own = registrable_domain(own_split[0]) if own_split else None
        links = list(page.links[:MAX_LINKS_READ])
        links.extend(i.text.strip() for i in page.image_texts if i.kind == "qr" and _is_http(i.text))
        reasons: list[SignalReason] = []
        seen: set[str] = set()
        weight = TO_BAD_WEIGHT
        for link in links:
            found = self.known_bad.match(link)
            if found is None or self.is_official(link):
                continue  # a link to an official site is never bad, whatever a list says
            split = _split(link)
            domain = registrable_domain(split[0]) if split else found.entry
            if domain == own or domain in seen:
                continue  # the site's own pages are `on_known_bad`; one reason per bad domain
            seen.add(domain)
            reasons.append(SignalReason("link.to_known_bad", link, -1, -1, round(weight, 2), "core", CATEGORIES))
            weight /= 2
            if len(reasons) >= MAX_BAD_LINKS:
                break
        return reasons


def _is_http(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://"))
