"""Pure extraction from decoded HTML: the visible text an analyst would read, the title, and the links.

Scripts, styles and comments are dropped; ``alt`` and ``title`` attributes are kept (scalpers hide contacts
there). Inline elements join without separators, so a phone number split across ``<span>`` tags stays whole;
block elements start new lines.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin

import lxml.html
from lxml import etree

_SKIP = {"script", "style", "noscript", "template", "head", "svg", "object", "iframe", "select"}
_BLOCK = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
    "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "option", "button",
}  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
MAX_TEXT_CHARS = 500_000


def parse_html(html: str) -> etree._Element | None:
    """The document tree, or None for empty or unparsable input."""
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _walk(node: etree._Element, out: list[str]) -> None:
    tag = node.tag if isinstance(node.tag, str) else ""
    tag = tag.lower()
    if tag in _SKIP or not tag:  # comments and processing instructions have non-string tags
        return
    block = tag in _BLOCK
    if block:
        out.append("\n")
    if node.text:
        out.append(node.text)
    for attr in ("alt", "title"):
        value = node.get(attr)
        if value and value.strip():
            out.append(f" {value.strip()} ")
    for child in node:
        _walk(child, out)
        if child.tail:
            out.append(child.tail)
    if block:
        out.append("\n")


def _clean(raw: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in raw.splitlines())
    return "\n".join(line for line in lines if line)[:MAX_TEXT_CHARS]


def page_title(root: etree._Element) -> str:
    for xpath in ("//title", "//h1"):
        for element in root.xpath(xpath):
            text = _clean(element.text_content())
            if text:
                return text.replace("\n", " ")[:500]
    return ""


def html_to_text(html: str) -> tuple[str, str]:
    """Return (title, visible text). The text starts with the title line when the body does not show it."""
    root = parse_html(html)
    if root is None:
        return "", ""
    title = page_title(root)
    out: list[str] = []
    body = root.find("body")
    _walk(body if body is not None else root, out)
    text = _clean("".join(out))
    if title and not text.startswith(title):
        text = f"{title}\n{text}" if text else title
    return title, text


def document_base(root: etree._Element, url: str) -> str:
    """The URL relative links resolve against: the page's ``<base href>`` if it has one."""
    base = root.xpath("//base/@href")
    return urljoin(url, base[0].strip()) if base else url


def extract_links(html: str, base_url: str) -> list[str]:
    """Absolute http(s) links of ``<a href>`` and ``<area href>``, fragments removed, in page order, unique."""
    root = parse_html(html)
    if root is None:
        return []
    base_url = document_base(root, base_url)
    seen: dict[str, None] = {}
    for href in root.xpath("//a/@href | //area/@href"):
        href = href.strip()
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
            continue
        try:
            url = urldefrag(urljoin(base_url, href)).url
        except ValueError:
            continue
        if url.startswith(("http://", "https://")):
            seen.setdefault(url, None)
    return list(seen)
