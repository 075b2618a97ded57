"""Charset detection for Chinese pages and refusal of binary bodies."""

from __future__ import annotations

import pytest

from spiders.decoding import UndecodableBody, decode_body, looks_binary

PAGE = "<html><head>{meta}<title>专家号代挂</title></head><body>北京协和医院专家号，加号，服务费三百元。</body></html>"


def page(meta: str = "") -> str:
    return PAGE.format(meta=meta)


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [
        (page().encode("utf-8"), "text/html; charset=utf-8", "utf-8"),
        (page().encode("gbk"), "text/html; charset=GBK", "gb18030"),
        (page().encode("gbk"), "text/html; charset=gb2312", "gb18030"),
        (page('<meta charset="gb18030">').encode("gb18030"), "text/html", "gb18030"),
        (page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gbk"), "", "gb18030"),
        (page().encode("gbk"), "text/html", "gb18030"),  # no declaration anywhere
        (page().encode("gbk"), "text/html; charset=utf-8", "gb18030"),  # declared UTF-8, written in GBK
        (page('<meta charset="gbk">').encode("utf-8"), "text/html", "utf-8"),  # declared GBK, written in UTF-8
        ("\ufeff".encode() + page().encode("utf-8"), "text/html; charset=gbk", "utf-8"),
    ],
)
def test_decodes_chinese_pages(body: bytes, content_type: str, encoding: str) -> None:
    text, used = decode_body(body, content_type)
    assert used == encoding
    assert "北京协和医院专家号" in text


def test_rare_gb18030_characters_survive_a_gbk_declaration() -> None:
    body = "䶮 代挂号".encode("gb18030")
    text, _ = decode_body(body, "text/html; charset=gbk")
    assert text == "䶮 代挂号"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "text/html"),
        (b"%PDF-1.7\n...", "text/html; charset=utf-8"),
        (b"PK\x03\x04" + bytes(100), "application/octet-stream"),
        (bytes(range(256)) * 4, ""),
        (b"<html>ok</html>", "image/jpeg"),
    ],
)
def test_binary_bodies_are_refused(body: bytes, content_type: str) -> None:
    assert looks_binary(body, content_type)
    with pytest.raises(UndecodableBody):
        decode_body(body, content_type)


def test_text_is_not_binary() -> None:
    assert not looks_binary(page().encode("gbk"), "text/html")
    assert not looks_binary(b"", "")
