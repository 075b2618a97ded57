"""Turn a response body into text: find the real encoding of Chinese pages and refuse binary bodies.

Order of evidence: byte-order mark, then the charset in the HTTP header, then a ``<meta>`` declaration, then
detection. A declared charset is only trusted if the body decodes under it; GBK-family names are widened to
GB18030 (a superset) so rare characters survive. Pages declared as UTF-8 but written in GBK are common.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "ms936", "euc-cn", "hz-gb-2312", "csgb2312"}
_BINARY_MAGIC = (
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"%PDF",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"Rar!",
    b"7z\xbc\xaf",
    b"MZ",
    b"\x7fELF",
    b"ID3",
    b"OggS",
    b"RIFF",
    b"\x00\x00\x01\x00",
)
_TEXT_TYPES = ("text/", "application/xhtml", "application/xml", "application/json", "application/javascript")


class UndecodableBody(ValueError):
    """The body is binary or not text in any encoding we accept."""


def _normalise_name(name: str) -> str | None:
    name = name.strip().strip("\"'").lower()
    if name in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def looks_binary(body: bytes, content_type: str = "") -> bool:
    """True for bodies that are not text, whatever the Content-Type claims."""
    head = body[:2048]
    if any(head.startswith(magic) for magic in _BINARY_MAGIC):
        return True
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    ctype = content_type.split(";")[0].strip().lower()
    if ctype and not ctype.startswith(_TEXT_TYPES) and ctype != "application/octet-stream":
        return True
    if head:
        controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
        if controls / len(head) > 0.05:
            return True
    return False


def header_charset(content_type: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:8192])
    return match.group(1).decode("ascii", "ignore") if match else None


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_body(body: bytes, content_type: str = "") -> tuple[str, str]:
    """Return (text, encoding name used). Raises UndecodableBody for binary content."""
    if looks_binary(body, content_type):
        raise UndecodableBody("binary body")
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace"), encoding.removesuffix("-sig")
    utf8 = _strict(body, "utf-8")
    for declared in (header_charset(content_type), meta_charset(body)):
        if not declared:
            continue
        encoding = _normalise_name(declared)
        if encoding == "gb18030" and utf8 is not None and not body.isascii():
            # valid multi-byte UTF-8 is almost never accidental: the declaration is wrong
            return utf8, "utf-8"
        if encoding and (text := _strict(body, encoding)) is not None:
            return text, encoding
    if utf8 is not None:
        return utf8, "utf-8"
    if (text := _strict(body, "gb18030")) is not None:
        return text, "gb18030"
    best = from_bytes(body[:65536]).best()
    if best is not None and best.encoding:
        encoding = _normalise_name(best.encoding) or best.encoding
        return body.decode(encoding, errors="replace"), encoding
    return body.decode("gb18030", errors="replace"), "gb18030"
