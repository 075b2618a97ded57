"""Candidate images of a page for QR decoding and OCR, found in its HTML.

Each ``<img>`` becomes a `CandidateImage`: its absolute source (``src``, or a lazy-loading attribute such as
``data-src`` / ``data-original`` when the real image is there; ``data:image/...;base64`` sources are kept as
they are), its ``alt`` and ``title``, and whether it sits in a *contact block*: the image's own alt/title/file
name, its block (nearest block-level ancestor, when that block is short, as a contact card is) or its neighbours
(the text right before and after it, the sibling elements next to it and next to its block) mention a contact
cue -- 扫码, 二维码, 微信, 加我, 联系, 客服 and the like (`CONTACT_CUES`), or the file name looks like a QR code
(qrcode, erweima, ewm, weixin ...). Scalpers put their WeChat QR code exactly there.

Skipped: SVG (no decoder reads it), images declared smaller than `MIN_DECLARED_SIDE` pixels (icons, tracking
pixels), and non-http(s) sources other than data URIs. Pure: no network; `pipelines/images.py` downloads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree

from spiders.extract import document_base, parse_html

__all__ = ["CONTACT_CUES", "MIN_DECLARED_SIDE", "CandidateImage", "candidate_images"]

CONTACT_CUES = re.compile(
    r"扫码|掃碼|扫一扫|掃一掃|二维码|二維碼|微信|v信|vx|wx|加我|联系|聯繫|聯系|客服|咨询|諮詢|qq|扣扣", re.IGNORECASE
)
_FILE_CUES = re.compile(r"qr|erweima|ewm|weixin|wechat|wx|kefu|lianxi|contact", re.IGNORECASE)
MIN_DECLARED_SIDE = 16
_SOURCE_ATTRIBUTES = ("data-src", "data-original", "data-lazy-src", "data-lazy", "data-echo", "data-url", "src")
_PLACEHOLDER = re.compile(r"(?:^|/)(?:blank|loading|lazy|placeholder|spacer|pixel|grey|gray)\.(?:gif|png|jpg)$", re.I)
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset", "figcaption", "figure",
    "footer", "form", "header", "li", "main", "nav", "ol", "p", "section", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul",
})  # fmt: skip
_PAGE = frozenset({"body", "html"})
_SKIP_TEXT = frozenset({"script", "style", "noscript", "template"})
MAX_BLOCK_CHARS = 300  # a longer block is a page section, not a contact card: only the neighbours count
_NEIGHBOUR_CHARS = 60


@dataclass(frozen=True, slots=True)
class CandidateImage:
    src: str  # absolute http(s) URL or a data: URI
    alt: str = ""
    title: str = ""
    in_contact_block: bool = False


def _text(node: etree._Element, limit: int) -> str:
    """Visible text of ``node`` (scripts and styles skipped) plus alt/title attributes, cut after ``limit``."""
    parts: list[str] = []
    size = 0
    for element in node.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.lower() in _SKIP_TEXT:
            continue
        for piece in (element.text if tag else None, element.get("alt"), element.get("title")):
            if piece:
                parts.append(piece)
                size += len(piece)
        if element is not node and element.tail:
            parts.append(element.tail)
            size += len(element.tail)
        if size > limit:
            break
    return " ".join(parts)


def _block(img: etree._Element) -> etree._Element | None:
    """The nearest block-level ancestor below ``<body>``."""
    for ancestor in img.iterancestors():
        tag = ancestor.tag.lower() if isinstance(ancestor.tag, str) else ""
        if tag in _PAGE:
            return None
        if tag in _BLOCKS:
            return ancestor
    return None


def _has_image(node: etree._Element) -> bool:
    return node.tag == "img" or next(node.iter("img"), None) is not None


def _neighbour_text(node: etree._Element) -> str:
    """Text right around ``node``: the text before it in its parent, its tail, and its sibling elements unless
    they hold an image of their own (their caption is that image's)."""
    pieces: list[str] = []
    previous = node.getprevious()
    if previous is not None:
        if not _has_image(previous):
            pieces.append(_text(previous, _NEIGHBOUR_CHARS)[-_NEIGHBOUR_CHARS:])
        if previous.tail:
            pieces.append(previous.tail[-_NEIGHBOUR_CHARS:])
    else:
        parent = node.getparent()
        if parent is not None and parent.text:
            pieces.append(parent.text[-_NEIGHBOUR_CHARS:])
    if node.tail:
        pieces.append(node.tail[:_NEIGHBOUR_CHARS])
    following = node.getnext()
    if following is not None and not _has_image(following):
        pieces.append(_text(following, _NEIGHBOUR_CHARS)[:_NEIGHBOUR_CHARS])
    return " ".join(pieces)


def _in_contact_block(img: etree._Element, src: str) -> bool:
    own = " ".join(filter(None, (img.get("alt"), img.get("title"))))
    if CONTACT_CUES.search(own):
        return True
    if not src.startswith("data:") and _FILE_CUES.search(urlsplit(src).path.rsplit("/", 1)[-1]):
        return True
    if CONTACT_CUES.search(_neighbour_text(img)):
        return True
    block = _block(img)
    if block is None:
        return False
    block_text = _text(block, MAX_BLOCK_CHARS + 1)
    if len(block_text) <= MAX_BLOCK_CHARS and CONTACT_CUES.search(block_text):
        return True
    return CONTACT_CUES.search(_neighbour_text(block)) is not None


def _declared_too_small(img: etree._Element) -> bool:
    for attribute in ("width", "height"):
        value = (img.get(attribute) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < MIN_DECLARED_SIDE:
            return True
    return False


def _source(img: etree._Element, base_url: str) -> str | None:
    for attribute in _SOURCE_ATTRIBUTES:
        raw = (img.get(attribute) or "").strip()
        if not raw or (attribute == "src" and _PLACEHOLDER.search(raw) and img.get("data-src")):
            continue
        if raw.startswith("data:"):
            if raw[:11].lower() == "data:image/" and ";base64," in raw[:80] and "svg" not in raw[:30].lower():
                return raw
            continue
        if _PLACEHOLDER.search(raw) and attribute == "src":
            continue
        try:
            url = urldefrag(urljoin(base_url, raw)).url
        except ValueError:
            continue
        if url.startswith(("http://", "https://")) and not urlsplit(url).path.lower().endswith(".svg"):
            return url
    return None


def candidate_images(html: str, base_url: str) -> list[CandidateImage]:
    """The page's images in page order, one per source; an image met twice is in a contact block if either
    occurrence is."""
    root = parse_html(html)
    if root is None:
        return []
    base_url = document_base(root, base_url)
    found: dict[str, CandidateImage] = {}
    for img in root.iter("img"):
        if _declared_too_small(img):
            continue
        src = _source(img, base_url)
        if src is None:
            continue
        contact = _in_contact_block(img, src)
        previous = found.get(src)
        if previous is None:
            found[src] = CandidateImage(src, (img.get("alt") or "").strip(), (img.get("title") or "").strip(), contact)
        elif contact and not previous.in_contact_block:
            found[src] = CandidateImage(src, previous.alt, previous.title, True)
    return list(found.values())
