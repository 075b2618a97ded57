"""Look-alike hospitals: pages on non-official hosts that present themselves as a listed hospital or booking
platform, carry a near-miss of its name, or sit on a domain imitating its official one.

The list is ``keywords/data/hospitals.tsv`` (`load_hospitals`): ``name<TAB>aliases<TAB>official domains``.
A page on an official domain (or a subdomain of one) never triggers. Otherwise, as `SignalReason`\\ s:

* ``lookalike.name_on_unofficial_host`` -- the title presents the page as a listed hospital: the title's
  site-name segment (its last or only segment, split at ``- _ | ｜ —`` …) or a segment carrying an official cue
  (官网, 官方网站, 预约挂号平台 …) is a listed name once booking and site words (预约挂号, 首页 …) are stripped,
  or a head line of the page says the same with an official cue (`LISTED_WEIGHT`, core). A page whose title
  claims to be a hospital's or platform's official site (医院官网, 预约挂号平台 …) without naming a listed one
  weighs `GENERIC_WEIGHT` (support). News, encyclopedia and forum pages about a hospital carry their own site
  name last and never present the hospital this way.
* ``lookalike.name`` -- the same positions (and short head lines standing alone) hold a near miss of a listed
  name: one edit (two for names of `EDIT2_MIN_LENGTH` characters or more; 复大 for 复旦, 瀚洲 for 瀚州 …) or
  extra characters in front of it (新华山医院). Edits that only change an ordinal or a direction (第一/第三医院,
  华东/华山, 广东/广西) or the place before 省/市/县/区/州 (杭州市 for 瀚州市; but not 瀚洲 for 瀚州, where the marker
  itself is swapped) name other, legitimate institutions and do not count.
* ``lookalike.domain`` -- the page's registrable domain imitates an official one: same label under another
  suffix (``bjguahao.net.cn`` for ``bjguahao.gov.cn``), hyphens moved or digits added (``hz-srmyy.com``,
  ``hzsrmyy120.com``), the official label with a few extra letters (``shhuashan.com`` for ``huashan.org.cn``), or
  an edit distance of 1 (labels of 6+ letters) or 2 (8+).

Names are folded like page text (`keywords.normalisation.fold_term`: traditional characters, full-width forms
and punctuation do not hide a name). Matching is bounded: only the title and the first `HEAD_LINES` lines are
read, near misses are found through a deletion-neighbourhood index (a few dictionary look-ups per window, no
scan over the list), and domains are compared once per registrable domain (cached).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from crawler.domains import registrable_domain
from keywords.domains import OfficialDomains
from keywords.normalisation import fold_term
from keywords.signals import EvidenceKind, SignalReason

__all__ = [
    "DEFAULT_HOSPITALS_FILE",
    "Hospital",
    "Hospitals",
    "load_hospitals",
]

DEFAULT_HOSPITALS_FILE = Path(__file__).resolve().parent / "data" / "hospitals.tsv"

LISTED_WEIGHT = 20.0  # a listed name presented on a non-official host
GENERIC_WEIGHT = 6.0  # "医院官网" / "预约挂号平台" claimed by an unlisted site
NEAR_MISS_WEIGHT = 15.0  # a near-miss name (names of 5+ characters)
NEAR_MISS_SHORT_WEIGHT = 8.0  # a near miss of a 4-character name: many real names are one character apart
DOMAIN_STRONG_WEIGHT = 20.0  # other suffix, hyphens moved, digits added
DOMAIN_WEIGHT = 15.0  # embedded with up to 3 extra letters; edit distance 1
DOMAIN_WEAK_WEIGHT = 8.0  # embedded with more extra letters; edit distance 2

MIN_NAME_LENGTH = 4  # shorter names (after folding) are too ambiguous to compare
EDIT2_MIN_LENGTH = 9
HEAD_LINES = 5  # lines after the title read for head lines
HEAD_LINE_MAX = 40  # longer lines are prose, not a logo or a heading
MAX_SEGMENT = 30  # longer title segments are sentences
MIN_LABEL = 4  # domain labels shorter than this are not compared

_SCALPER = ("scalper_service",)
_IMPERSONATION = ("scalper_service", "medical_tout")

# Title segments are separated by these (not by "：", which headlines use: "某医院：谨防号贩子").
_SEPARATORS = re.compile(r"\s*(?:[-_|｜—–·•丨>»/\\]+|\s{2,}|\u3000+)\s*")
# Words around a name in a title that do not change what it names, folded. Booking words mark a booking page.
_OFFICIAL_CUES = ("官方网站", "官方网", "官网", "官方")
_BOOKING_CUES = (
    "预约挂号统一平台", "预约挂号平台", "网上预约挂号", "预约挂号", "挂号预约", "挂号平台", "网上挂号", "在线挂号",
    "专家号预约", "专家预约", "门诊预约", "预约中心", "挂号中心", "预约", "挂号",
)  # fmt: skip
_SITE_CUES = ("网站首页", "门户网站", "首页", "主页", "网站", "欢迎您")
_PREFIX_CUES = ("欢迎访问", "欢迎来到", "欢迎光临")
_SUFFIX_CUES = tuple(sorted({*_OFFICIAL_CUES, *_BOOKING_CUES, *_SITE_CUES}, key=len, reverse=True))
# A title claiming an official site without naming a listed institution.
_GENERIC_CLAIM = re.compile(r"(?:医院|挂号平台|挂号网)(?:官方网站|官方网|官网)|官方预约挂号|预约挂号(?:统一)?平台")
# Differences that name a different real institution rather than imitate one.
_ORDINALS = frozenset("一二三四五六七八九十零〇百0123456789第")
_DIRECTIONS = frozenset("东西南北中")
_PLACE_MARKERS = frozenset("省市县区州")


@dataclass(frozen=True, slots=True)
class Hospital:
    """A hospital or official booking platform: its name, aliases and official (registrable) domains."""

    name: str
    aliases: tuple[str, ...]
    domains: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def booking(self) -> bool:
        """A booking platform rather than a hospital (impersonating it is a scalper's move)."""
        return any(word in self.name for word in ("挂号", "预约", "健康通"))


@dataclass(frozen=True, slots=True)
class _Label:
    label: str
    suffix: str
    domain: str


@dataclass(frozen=True, slots=True)
class _Segment:
    start: int
    end: int
    text: str
    forms: tuple[str, ...]  # folded, then with each cue stripped in turn ("北京市预约挂号统一平台官网" ... "北京市")
    official_cue: bool
    booking_cue: bool


def _strip_cues(folded: str) -> tuple[tuple[str, ...], bool, bool]:
    """Every form of ``folded`` as site and booking words are stripped off its ends, longest first."""
    forms = [folded]
    official = booking = False
    changed = True
    while changed and folded:
        changed = False
        for cue in _PREFIX_CUES:
            if folded.startswith(cue) and len(folded) > len(cue):
                folded, changed = folded[len(cue) :], True
                forms.append(folded)
        for cue in _SUFFIX_CUES:
            if folded.endswith(cue) and len(folded) > len(cue):
                folded, changed = folded[: -len(cue)], True
                forms.append(folded)
                official |= cue in _OFFICIAL_CUES
                booking |= cue in _BOOKING_CUES
                break
    return tuple(forms), official, booking


def _deletions(word: str, count: int) -> set[str]:
    """``word`` with 0..``count`` characters deleted (never down to nothing)."""
    out = {word}
    frontier = {word}
    for _ in range(count):
        frontier = {w[:i] + w[i + 1 :] for w in frontier if len(w) > 1 for i in range(len(w))}
        out |= frontier
    return out


def _alignment(a: str, b: str) -> list[tuple[str, str]]:
    """The edits turning ``a`` into ``b`` as (from, to) pairs ("" for an insertion or deletion); short strings only."""
    rows, cols = len(a) + 1, len(b) + 1
    dist = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        dist[i][0] = i
    for j in range(cols):
        dist[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            dist[i][j] = min(dist[i - 1][j] + 1, dist[i][j - 1] + 1, dist[i - 1][j - 1] + cost)
    edits: list[tuple[str, str]] = []
    i, j = len(a), len(b)
    while i or j:
        if i and j and dist[i][j] == dist[i - 1][j - 1] + (a[i - 1] != b[j - 1]):
            if a[i - 1] != b[j - 1]:
                edits.append((a[i - 1], b[j - 1]))
            i, j = i - 1, j - 1
        elif i and dist[i][j] == dist[i - 1][j] + 1:
            edits.append((a[i - 1], ""))
            i -= 1
        else:
            edits.append(("", b[j - 1]))
            j -= 1
    return edits


def _edit_positions(a: str, b: str) -> list[int]:
    """Positions in ``a`` where it differs from ``b`` (for the place-name rule); same-length strings only."""
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


def _names_other_institution(candidate: str, name: str, edits: list[tuple[str, str]]) -> bool:
    """Do the edits between ``name`` and ``candidate`` only name a different, legitimate institution?"""
    for before, after in edits:
        if (before and before in _ORDINALS) or (after and after in _ORDINALS):
            return True
        if (before and before in _DIRECTIONS) or (after and after in _DIRECTIONS):
            return True
    if len(candidate) == len(name):
        positions = _edit_positions(name, candidate)
        if any(name[p] in _PLACE_MARKERS for p in positions):
            return False  # 瀚洲 for 瀚州: the place marker itself swapped for a look-alike
        for marker_at, ch in enumerate(name[:5]):
            if ch in _PLACE_MARKERS and candidate[marker_at] == ch and all(p < marker_at for p in positions):
                return True  # 杭州市 for 瀚州市: another place
    return False


def _edit_limit(length: int) -> int:
    return 2 if length >= EDIT2_MIN_LENGTH else 1


def _label_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of two short strings, or ``limit + 1`` when it is larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


class Hospitals:
    """The listed hospitals with their name and domain indexes. Build once (`load_hospitals`); pure after."""

    def __init__(self, hospitals: Iterable[Hospital]) -> None:
        self.hospitals = tuple(hospitals)
        self._official = OfficialDomains(d for h in self.hospitals for d in h.domains)
        self._by_name: dict[str, Hospital] = {}
        for hospital in self.hospitals:
            for name in hospital.names:
                key = fold_term(name)
                if len(key) >= MIN_NAME_LENGTH:
                    self._by_name.setdefault(key, hospital)
        # deletion neighbourhood of every name -> names it may come from
        self._neighbours: dict[str, set[str]] = {}
        for key in self._by_name:
            for variant in _deletions(key, _edit_limit(len(key))):
                self._neighbours.setdefault(variant, set()).add(key)
        self._lengths = sorted({len(k) for k in self._by_name})
        # a text within two edits of a listed name ends with some of the name's last three characters
        # (医院, 保健院, 平台...): ordinary lines are ruled out before the expensive neighbourhood search
        self._tail_chars = frozenset(ch for key in self._by_name for ch in key[-3:])
        self._near_miss_cache: dict[str, str | None] = {}
        self._labels: list[tuple[_Label, Hospital]] = []
        for hospital in self.hospitals:
            for domain in hospital.domains:
                domain = domain.lower().strip(".")
                if registrable_domain(domain) != domain or "." not in domain:
                    continue  # a host under a shared suffix (jkt.example.gov.cn): its label is not its own
                label, _, suffix = domain.partition(".")
                if len(label) >= MIN_LABEL:
                    self._labels.append((_Label(label, suffix, domain), hospital))
        self._domain_cache = lru_cache(maxsize=4096)(self._domain_lookalike)

    def __len__(self) -> int:
        return len(self.hospitals)

    def is_official_url(self, url: str) -> bool:
        return self._official.match(url) is not None

    def lookup(self, name: str) -> Hospital | None:
        """The listed hospital called ``name`` (any listed form, folded), or None."""
        return self._by_name.get(fold_term(name))

    # -- evidence ----------------------------------------------------------------------------------------

    def lookalike_reasons(self, url: str, text: str) -> list[SignalReason]:
        """All look-alike evidence for a page at ``url`` whose text (title first) is ``text``."""
        official = self._official.match(url)
        if official is not None or not url:
            return []
        reasons: list[SignalReason] = []
        host = _host(url)
        if host:
            found = self._domain_cache(registrable_domain(host))
            if found is not None:
                reasons.append(found)
        reasons.extend(self.name_reasons(text))
        return reasons

    def name_reasons(self, text: str) -> list[SignalReason]:
        """Name evidence from the title and head lines of ``text`` (assumed to be on a non-official host):
        at most one ``lookalike.name_on_unofficial_host`` and one ``lookalike.name``."""
        title, head = _title_and_head(text)
        presented: SignalReason | None = None
        near: SignalReason | None = None
        segments = _segments(text, *title) if title else []
        for index, segment in enumerate(segments):
            site_name = index == len(segments) - 1 or segment.official_cue
            if not site_name:
                continue
            presented = presented or self._listed(segment)
            near = near or self._near_miss(segment)
        for start, end in head:
            segment = _segment(text, start, end)
            if segment is None:
                continue
            if segment.official_cue:
                presented = presented or self._listed(segment)
            near = near or self._near_miss(segment)
        if presented is None and title:
            title_text = text[title[0] : title[1]]
            if _GENERIC_CLAIM.search(fold_term(title_text)):
                categories = _SCALPER if "挂号" in title_text else _IMPERSONATION
                presented = SignalReason(
                    "lookalike.name_on_unofficial_host", title_text, title[0], title[1], GENERIC_WEIGHT, "support",
                    categories,
                )  # fmt: skip
        return [r for r in (presented, near) if r is not None]

    def _listed_form(self, segment: _Segment) -> Hospital | None:
        for form in segment.forms:
            hospital = self._by_name.get(form)
            if hospital is not None:
                return hospital
        return None

    def _listed(self, segment: _Segment) -> SignalReason | None:
        hospital = self._listed_form(segment)
        if hospital is None:
            return None
        categories = _SCALPER if hospital.booking or segment.booking_cue else _IMPERSONATION
        return SignalReason(
            "lookalike.name_on_unofficial_host", segment.text, segment.start, segment.end, LISTED_WEIGHT, "core",
            categories,
        )  # fmt: skip

    def _near_miss(self, segment: _Segment) -> SignalReason | None:
        if self._listed_form(segment) is not None:
            return None
        found = [
            name
            for form in segment.forms
            if len(form) <= MAX_SEGMENT
            for name in (self._extra_prefix(form), self._one_or_two_edits(form))
            if name is not None
        ]
        if not found:
            return None
        name = max(found, key=len)
        weight, kind = (
            (NEAR_MISS_WEIGHT, "core") if len(name) > MIN_NAME_LENGTH else (NEAR_MISS_SHORT_WEIGHT, "support")
        )
        hospital = self._by_name[name]
        categories = _SCALPER if hospital.booking or segment.booking_cue else _IMPERSONATION
        return SignalReason("lookalike.name", segment.text, segment.start, segment.end, weight, kind, categories)

    def _extra_prefix(self, core: str) -> str | None:
        """A listed name that ``core`` ends with, after extra characters in front (新华山医院)."""
        for i in range(1, len(core) - MIN_NAME_LENGTH + 1):
            tail = core[i:]
            if tail in self._by_name:
                # a longer listed name containing this one is a different listed institution, checked above
                if any(ch in _ORDINALS for ch in core[:i]):
                    return None
                return tail
        return None

    def _one_or_two_edits(self, core: str) -> str | None:
        """A listed name within its edit limit of a tail of ``core`` (names end titles: 瀚洲市人民医院).
        Results are remembered per text: navigation lines and titles repeat across a site's pages."""
        if len(core) < MIN_NAME_LENGTH or not self._tail_chars.intersection(core[-3:]):
            return None
        if core not in self._near_miss_cache:
            if len(self._near_miss_cache) > 10_000:
                self._near_miss_cache.clear()
            self._near_miss_cache[core] = self._nearest_name(core)
        return self._near_miss_cache[core]

    def _nearest_name(self, core: str) -> str | None:
        best: tuple[int, str] | None = None
        for length in self._lengths:
            for window_length in range(max(1, length - 2), length + 3):
                if window_length > len(core):
                    break
                window = core[len(core) - window_length :]
                limit = _edit_limit(window_length)
                for variant in _deletions(window, limit):
                    for name in self._neighbours.get(variant, ()):
                        if window_length < len(core) and (window[0] != name[0] or window_length < len(name)):
                            # inside a longer text the window must hold the whole name, starting where it starts
                            continue
                        if window_length > len(name) and window[-1] != name[-1]:
                            continue  # names end site names: a character after the name is a sentence going on
                        distance = _label_distance(window, name, _edit_limit(len(name)))
                        if not 1 <= distance <= _edit_limit(len(name)):
                            continue
                        if _names_other_institution(window, name, _alignment(name, window)):
                            continue
                        if best is None or (distance, -len(name)) < (best[0], -len(best[1])):
                            best = (distance, name)
        return best[1] if best else None

    def _domain_lookalike(self, domain: str) -> SignalReason | None:
        label, _, suffix = domain.partition(".")
        if not suffix or len(label) < MIN_LABEL or domain.replace(".", "").isdigit():
            return None
        best: tuple[float, EvidenceKind, _Label, Hospital] | None = None
        for official, hospital in self._labels:
            if domain == official.domain:
                return None
            graded = _compare_labels(label, suffix, official)
            if graded is not None and (best is None or graded[0] > best[0]):
                best = (*graded, official, hospital)
        if best is None:
            return None
        weight, kind, official, hospital = best
        categories = _SCALPER if hospital.booking else _IMPERSONATION
        return SignalReason("lookalike.domain", f"{domain}≈{official.domain}", -1, -1, weight, kind, categories)


def _compare_labels(label: str, suffix: str, official: _Label) -> tuple[float, EvidenceKind] | None:
    """How strongly ``label.suffix`` imitates ``official`` (weight, kind), or None."""
    theirs = official.label
    if label == theirs:
        return (DOMAIN_STRONG_WEIGHT, "core") if suffix != official.suffix else None
    if label.replace("-", "") == theirs.replace("-", ""):
        return DOMAIN_STRONG_WEIGHT, "core"
    plain = re.sub(r"[-0-9]", "", label)
    if not any(ch.isdigit() for ch in theirs) and plain == theirs.replace("-", ""):
        return DOMAIN_STRONG_WEIGHT, "core"  # digits added: hzsrmyy120.com
    if len(theirs) >= 5 and theirs in label:
        extra = len(label) - len(theirs)
        if extra <= 3:
            return DOMAIN_WEIGHT, "core"
        if extra <= 8:
            return DOMAIN_WEAK_WEIGHT, "support"
        return None
    limit = 2 if len(theirs) >= 8 else 1
    if len(theirs) < 6:
        return None
    distance = _label_distance(label, theirs, limit)
    if distance == 1:
        return DOMAIN_WEIGHT, "core"
    if distance == 2 and limit == 2:
        return DOMAIN_WEAK_WEIGHT, "support"
    return None


def _host(url: str) -> str:
    from keywords.links import normalise_host

    match = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#]*)", url.strip())
    return normalise_host(match.group(1)) if match else ""


def _title_and_head(text: str) -> tuple[tuple[int, int] | None, list[tuple[int, int]]]:
    """Span of the title (the first non-empty line) and of the next `HEAD_LINES` short non-empty lines."""
    spans: list[tuple[int, int]] = []
    position = 0
    limit = min(len(text), 4000)
    while position < limit and len(spans) < HEAD_LINES + 1:
        end = text.find("\n", position, limit)
        end = limit if end < 0 else end
        start, stop = position, end
        while start < stop and text[start].isspace():
            start += 1
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        if stop > start and (not spans or stop - start <= HEAD_LINE_MAX):
            spans.append((start, stop))
        position = end + 1
    if not spans:
        return None, []
    return spans[0], spans[1:]


def _segments(text: str, start: int, end: int) -> list[_Segment]:
    out: list[_Segment] = []
    position = start
    line = text[start:end]
    for separator in [*_SEPARATORS.finditer(line), None]:
        stop = start + separator.start() if separator else end
        segment = _segment(text, position, stop)
        if segment is not None:
            out.append(segment)
        if separator:
            position = start + separator.end()
    return out


def _segment(text: str, start: int, end: int) -> _Segment | None:
    raw = text[start:end]
    if not raw.strip() or end - start > 3 * MAX_SEGMENT:
        return None
    folded = fold_term(raw)
    if not folded:
        return None
    forms, official, booking = _strip_cues(folded)
    return _Segment(start, end, raw, forms, official, booking)


def _parse_line(path: Path, number: int, line: str) -> Hospital:
    fields = line.split("\t")
    if len(fields) != 3:
        raise ValueError(f"{path}:{number}: expected name<TAB>aliases<TAB>domains, got {len(fields)} field(s)")
    name, aliases, domains = (f.strip() for f in fields)
    alias_list = tuple(a.strip() for a in aliases.split(",") if a.strip() and a.strip() != "-")
    domain_list = tuple(d.strip().lower().strip(".") for d in domains.split(",") if d.strip() and d.strip() != "-")
    if not name:
        raise ValueError(f"{path}:{number}: empty name")
    if not domain_list:
        raise ValueError(f"{path}:{number}: {name} has no official domain (its own site would look like a fake)")
    for domain in domain_list:
        if "." not in domain or "/" in domain or ":" in domain or " " in domain:
            raise ValueError(f"{path}:{number}: {domain!r} is not a bare domain")
    return Hospital(name, alias_list, domain_list)


def load_hospitals(path: Path | None = None) -> Hospitals:
    """Parse a hospitals file (default: the bundled ``keywords/data/hospitals.tsv``); ``ValueError`` names
    ``file:line`` for a malformed line or a name listed for two institutions."""
    path = path or DEFAULT_HOSPITALS_FILE
    hospitals: list[Hospital] = []
    owner: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            hospital = _parse_line(path, number, line)
            for name in hospital.names:
                key = fold_term(name)
                if key in owner and owner[key] != hospital.name:
                    raise ValueError(f"{path}:{number}: {name!r} is already listed for {owner[key]}")
                owner[key] = hospital.name
            hospitals.append(hospital)
    return Hospitals(hospitals)
