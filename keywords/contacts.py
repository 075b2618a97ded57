"""Contact identifiers in page text: mainland mobile numbers, WeChat IDs and QQ numbers.

Everything runs on the digits view of `keywords.normalisation` (NFKC, t2s, ASCII lower-cased, Chinese and
phone-speak digits mapped inside number-like runs, separators kept), so "１３８ １２３４ ５６７８",
"①③⑧-1234-5678" and "幺三八 一二三四 五六七八" are all found, and so is a number split across lines.

* mobile: 11 digits with a carrier prefix from the strict prefix table (13x, 145–149, 15x except 154, 162,
  165–167, 170–178, 18x, 19x except 194); up to three separators between digits, optional +86/0086.
  Value: the 11 digits.
* wechat: an ID (a letter or ``_`` then 5–19 of letters, digits, ``_``, ``-``) or a mobile number right after
  a WeChat cue (微信/威信/薇信/徽信/维信/V信/vx/wx/绿泡泡, or 加/+/➕ followed by V/微/W…; up to two spaces
  may split a cue, as in "V 信"), allowing short fillers such as "号:" or "同号". Value: the ID in lower case
  (WeChat IDs are case-insensitive) or the 11 digits of the number; a number after a WeChat cue is reported
  as both wechat and mobile.
* qq: 5–11 digits, first non-zero, right after a QQ cue (QQ/Q号/扣扣/企鹅/🐧). Value: the digits.
* label above value: a WeChat or QQ cue that ends its line (only fillers after it, as in "QQ：") also takes an
  identifier that stands alone on the next line. Text extracted from a two-column table
  (``<td>QQ：</td><td>3094417726</td>``) looks like that; an identifier followed by more text on its line is
  not taken, so a cue at the end of one sentence does not pick up the first word of the next.

Each `Contact` carries its span in the original text (the identifier itself, not the cue).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keywords._fold import char_positions, digit_chains

if TYPE_CHECKING:
    from keywords.normalisation import NormalisedText

__all__ = ["CONTACT_KINDS", "Contact", "contacts_by_kind", "extract_contacts", "extract_contacts_everywhere"]

CONTACT_KINDS: tuple[str, ...] = ("mobile", "wechat", "qq")

_SEP = r"[\s\-.·_*#@~|/—–]"
_MOBILE_BODY = rf"1[3-9](?:{_SEP}{{0,3}}[0-9]){{9}}"
_STRICT_MOBILE = re.compile(r"1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}")

_MOBILE = re.compile(rf"(?<![0-9])(?:(?:\+|00)?86{_SEP}{{0,3}})?({_MOBILE_BODY})(?![0-9])")


def _spaced(words: tuple[str, ...]) -> str:
    """Alternation of ``words`` (longest first) tolerating up to two spaces between characters ("V 信")."""
    ordered = sorted(words, key=len, reverse=True)
    return "(?:" + "|".join(r"\s{0,2}".join(map(re.escape, w)) for w in ordered) + ")"


_WECHAT_CUE = (
    rf"(?:(?:加|\+|➕)\s{{0,2}}{_spaced(('v信', 'vx', 'wx', '微信', 'v', '微', 'w'))}"
    r"|(?<![a-z0-9])(?:vx|wx|weixin)(?![a-z])"
    rf"|{_spaced(('微信', '威信', '薇信', '徽信', '维信', 'v信', '绿泡泡'))})"
)
_QQ_CUE = rf"(?:(?<![a-z0-9])qq(?![a-z])|{_spaced(('q号', '扣扣', '企鹅'))}|🐧)"
# Short fillers between a cue and the identifier ("微信号：", "V信同号 ", "QQ群: ").
_FILLER = r"(?:[^\S\n]|[:=\-—~>()\[\]【】<]|号码?|id|同号|号是|搜索?|是|账号|群){0,6}"
_WECHAT_ID = r"[a-z_][a-z0-9_-]{5,19}(?![a-z0-9_-])"

# "Label above value": the cue ends its line and the identifier is alone on the next one.
_NEXT_LINE = r"[^\S\n]*\n[^\S\n]*"
_ALONE_ON_LINE = r"(?=[^\S\n]*(?:\n|$))"
_WECHAT_VALUE = rf"(?:({_MOBILE_BODY})(?![0-9])|({_WECHAT_ID}))"
_QQ_VALUE = r"([1-9](?:[ \-]?[0-9]){4,10})(?![0-9])"

_WECHAT = re.compile(_WECHAT_CUE + _FILLER + _WECHAT_VALUE)
_WECHAT_BELOW = re.compile(_WECHAT_CUE + _FILLER + _NEXT_LINE + _WECHAT_VALUE + _ALONE_ON_LINE)
_QQ = re.compile(_QQ_CUE + _FILLER + _QQ_VALUE)
_QQ_BELOW = re.compile(_QQ_CUE + _FILLER + _NEXT_LINE + _QQ_VALUE + _ALONE_ON_LINE)
_NON_DIGIT = re.compile(r"[^0-9]")


@dataclass(frozen=True, slots=True)
class Contact:
    """One identifier: ``kind`` in `CONTACT_KINDS`, normalised ``value``, original ``[start, end)``."""

    kind: str
    value: str
    start: int
    end: int


def _strict_mobile(raw: str) -> str | None:
    digits = _NON_DIGIT.sub("", raw)
    return digits if _STRICT_MOBILE.fullmatch(digits) else None


# Where a contact can start: a run of at least five digits (mobile and QQ numbers, a number as WeChat ID) or
# a WeChat cue (IDs made of letters). The extraction regexes run only in windows around these hints, which
# are found at several hundred MB/s (the digit runs of `_NUMBER_HINT` by keywords._fold.digit_chains, the
# compiled equivalent of that regex, which a test compares with it); a window reaches `_BEFORE` characters back
# (cue and fillers before a number) and `_AFTER` forward (the ID after a cue, or the next line), and is then
# stretched over the rest of any number or ID and the spaces after it, so no match is cut at a window's edge.
_NUMBER_HINT = re.compile(r"[0-9](?:[^0-9]{0,3}[0-9]){4,}")
# Every alternative starts with a literal character, so the engine skips ahead to the next possible start at C
# speed (a group first, as in "(?:加|\+|➕)…", makes it try every position).
_WECHAT_HINT = re.compile(
    r"微信|威信|薇信|徽信|维信|绿\s{0,2}泡|v\s{0,2}信|vx|wx|weixin|加\s{0,2}(?:v|微|w)|\+\s{0,2}(?:v|微|w)|➕\s{0,2}(?:v|微|w)"
)
# The first character of every alternative of `_WECHAT_HINT`: a hint can start only there.
_WECHAT_HINT_STARTS = "微威薇徽维绿vw加+➕"


def _wechat_hints(view: str) -> list[re.Match[str]]:
    """``_WECHAT_HINT.finditer(view)``, trying the regex only where a hint can start (found by a compiled pass):
    the same matches, without the regex engine trying every position of the page."""
    found: list[re.Match[str]] = []
    resume = 0
    for position in char_positions(view, _WECHAT_HINT_STARTS):
        if position < resume:
            continue  # inside the previous match: finditer goes on after it
        m = _WECHAT_HINT.match(view, position)
        if m is not None:
            found.append(m)
            resume = m.end()
    return found


_TAIL = re.compile(r"[0-9a-z_\-]*[^\S\n]*")
_BEFORE = 64
_AFTER = 96


def _windows(view: str) -> list[tuple[int, int]]:
    spans = [(max(0, start - _BEFORE), end) for start, end in digit_chains(view, 5, 3)]
    spans += [(m.start(), m.end() + _AFTER) for m in _wechat_hints(view)]
    spans.sort()
    windows: list[tuple[int, int]] = []
    for start, end in spans:
        end = min(len(view), _TAIL.match(view, min(len(view), end)).end() + 1)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def extract_contacts(text: NormalisedText) -> list[Contact]:
    """All contacts in ``text``, sorted by original position then kind."""
    return _extract(text, _windows(text.digits))


def extract_contacts_everywhere(text: NormalisedText) -> list[Contact]:
    """The same as `extract_contacts` without the hint windows (slower; the tests compare the two)."""
    return _extract(text, [(0, len(text.digits))])


def _extract(text: NormalisedText, windows: list[tuple[int, int]]) -> list[Contact]:
    view = text.digits
    found: list[Contact] = []
    for window in windows:
        found.extend(_extract_window(text, view, *window))
    found.sort(key=lambda c: (c.start, CONTACT_KINDS.index(c.kind), c.end))
    return found


# Every WeChat cue, and every QQ cue, contains one of these characters (the first of each alternative of
# `_WECHAT_CUE` and `_QQ_CUE`): a window without any holds no WeChat (QQ) contact, and its regexes need not run.
_WECHAT_CUE_CHARS = "加+➕vw微威薇徽维绿"
_QQ_CUE_CHARS = "q扣企🐧"


def _extract_window(text: NormalisedText, view: str, pos: int, endpos: int) -> list[Contact]:
    found: list[Contact] = []
    window = view[pos:endpos]

    for m in _MOBILE.finditer(view, pos, endpos):
        value = _strict_mobile(m.group(1))
        if value:
            start, end = text.digits_span(*m.span(1))
            found.append(Contact("mobile", value, start, end))

    wechat = any(ch in window for ch in _WECHAT_CUE_CHARS)
    for m in (*_WECHAT.finditer(view, pos, endpos), *_WECHAT_BELOW.finditer(view, pos, endpos)) if wechat else ():
        if m.group(1) is not None:
            value = _strict_mobile(m.group(1))
            if value is None:
                continue
            start, end = text.digits_span(*m.span(1))
        else:
            value = m.group(2)
            start, end = text.digits_span(*m.span(2))
        found.append(Contact("wechat", value, start, end))

    qq = any(ch in window for ch in _QQ_CUE_CHARS)
    for m in (*_QQ.finditer(view, pos, endpos), *_QQ_BELOW.finditer(view, pos, endpos)) if qq else ():
        value = _NON_DIGIT.sub("", m.group(1))
        start, end = text.digits_span(*m.span(1))
        found.append(Contact("qq", value, start, end))
    return found


def contacts_by_kind(contacts: list[Contact]) -> dict[str, list[str]]:
    """Sorted unique values per kind; every kind in `CONTACT_KINDS` is present."""
    return {kind: sorted({c.value for c in contacts if c.kind == kind}) for kind in CONTACT_KINDS}
