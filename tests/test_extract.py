"""Visible-text and link extraction from hostile HTML."""

from __future__ import annotations

from spiders.extract import extract_links, html_to_text


def test_visible_text_keeps_attributes_and_joins_inline_elements() -> None:
    html = """<html><head><title>特需号预约</title><style>.a{}</style></head><body>
    <h1>特需号预约</h1><script>var s = "代挂号 13912345678";</script>
    <p>联系<span>139</span><span>1234</span>5678</p><!-- 代挂号 -->
    <img src="q.png" alt="扫码加微信"><a href="/x" title="私聊">详情</a>
    <noscript>请启用脚本</noscript></body></html>"""
    title, text = html_to_text(html)
    assert title == "特需号预约"
    assert text.splitlines()[0] == "特需号预约"
    assert "联系13912345678" in text
    assert "扫码加微信" in text and "私聊" in text
    assert "代挂号" not in text and "请启用脚本" not in text


def test_title_line_is_added_when_body_lacks_it() -> None:
    title, text = html_to_text("<title>挂号须知</title><p>正文</p>")
    assert (title, text) == ("挂号须知", "挂号须知\n正文")


def test_broken_markup_and_empty_input() -> None:
    assert html_to_text("") == ("", "")
    assert html_to_text("   ") == ("", "")
    _, text = html_to_text("<div><p>未闭合<b>标签<div>第二块</td></tr></table>")
    assert text.splitlines() == ["未闭合标签", "第二块"]


def test_links_are_absolute_unique_and_http_only() -> None:
    html = """<base href="http://a.example.cn/dir/"><a href="p1.html#top">1</a><a href="p1.html">dup</a>
    <a href="//cdn.example.cn/x">2</a><a href="javascript:void(0)">no</a><a href="mailto:a@b.cn">no</a>
    <a href="tel:123">no</a><map><area href="http://b.example.cn/"></map><a href="http://[bad">bad</a>"""
    assert extract_links(html, "http://ignored.example.cn/") == [
        "http://a.example.cn/dir/p1.html",
        "http://cdn.example.cn/x",
        "http://b.example.cn/",
    ]
