"""Generated bodies for routes that are impractical to store as files.

Owns the two ``generate:`` kinds of the recorded-web schema:

* ``huge``: a valid, enormous HTML page (a forum "archiver" dump) of an exact byte size, produced
  in chunks so the server never holds it in memory;
* ``binary``: a small, valid PNG image (a QR-code-like pattern, deterministic per seed); routes
  use it as a real image or, with ``content_type: text/html``, as binary bytes mislabelled as HTML.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator

__all__ = ["huge_html", "png_bytes"]

_CHUNK_TITLES = (
    "春季过敏性鼻炎反复发作，除了吃药还能怎么调理？",
    "孩子夜里烧到三十八度五，是先物理降温还是直接去急诊？",
    "体检报告里甲状腺结节三类，需要复查吗",
    "老人膝盖疼上下楼困难，骨科和康复科该挂哪个",
    "医保异地备案在手机上怎么办理，求步骤",
    "晚上总是失眠多梦，中医调理有没有效果",
    "宝宝湿疹反复，医生开的药膏可以长期用吗",
    "胃镜选无痛还是普通的，做过的说说感受",
    "高血压吃药一年了，能不能自己减量",
    "住院押金退款一般要多久到账",
)


def huge_html(size_bytes: int, chunk_rows: int = 200) -> tuple[int, Iterator[bytes]]:
    """Return ``(length, chunks)`` for an HTML page of exactly ``size_bytes`` bytes (UTF-8).

    The page is well formed: a head, one long ``<ul>`` of archived thread titles, padding
    whitespace, and a proper closing ``</body></html>``. ``size_bytes`` below the size of the
    skeleton yields the skeleton itself.
    """
    head = (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        "<title>瀚州健康论坛 - 论坛归档 - Powered by Discuz! Archiver</title>\n</head>\n<body>\n"
        "<h1>瀚州健康论坛 论坛归档</h1>\n<ul>\n"
    ).encode()
    tail = "</ul>\n<p>查看完整版本</p>\n</body>\n</html>\n".encode()
    row_block = "".join(f"<li>{title}（回复 {7 + i * 3}）</li>\n" for i, title in enumerate(_CHUNK_TITLES))
    chunk = (row_block * max(1, chunk_rows // len(_CHUNK_TITLES))).encode()
    body_room = max(0, size_bytes - len(head) - len(tail))
    full, rest = divmod(body_room, len(chunk))
    total = len(head) + full * len(chunk) + rest + len(tail)

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(full):
            yield chunk
        if rest:
            yield b" " * (rest - 1) + b"\n" if rest > 1 else b"\n"
        yield tail

    return total, chunks()


def png_bytes(seed: str, modules: int = 25, scale: int = 6) -> bytes:
    """A deterministic greyscale PNG that looks like a QR code (``modules`` x ``modules`` cells)."""
    digest = b""
    counter = 0
    while len(digest) * 8 < modules * modules:
        digest += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    bits = [(digest[i // 8] >> (i % 8)) & 1 for i in range(modules * modules)]

    def dark(x: int, y: int) -> bool:
        for fx, fy in ((0, 0), (modules - 7, 0), (0, modules - 7)):  # three finder squares
            if fx <= x < fx + 7 and fy <= y < fy + 7:
                dx, dy = x - fx, y - fy
                ring = max(abs(dx - 3), abs(dy - 3))
                return ring != 2
        return bool(bits[y * modules + x])

    side = modules * scale
    rows = bytearray()
    for py in range(side):
        rows.append(0)  # filter type: none
        y = py // scale
        rows.extend(0 if dark(px // scale, y) else 255 for px in range(side))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )
