"""Reading images (keywords/images.py, spiders/images.py, pipelines/images.py): QR codes generated here with segno,
OCR of text rendered here with Pillow, malformed images, the contacts of QR payloads, `ImageSignal`, the choice of
candidate images, and the image pipeline alone and end to end through the replay web."""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import shutil
import socket
import struct
import time
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import segno
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from twisted.internet.error import TimeoutError as TwistedTimeoutError

from crawler.config import ImagesConfig, load_config
from crawler.items import PageItem
from keywords import images as images_module
from keywords.contacts import extract_contacts
from keywords.images import ImageSignal, decode_qr, qr_contacts, read_image, read_text
from keywords.normalisation import normalise
from keywords.signals import ImageText, PageInput
from pipelines.images import ImagePipeline
from spiders.images import CandidateImage, candidate_images

REPO = Path(__file__).resolve().parents[1]
FIXTURE_WEB = Path(__file__).resolve().parent / "fixtures" / "images" / "web"
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
WECHAT_LINK = "https://u.wechat.com/EF8k3mL2Q1"


def qr_png(payload: str, *, scale: int = 4, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4, **kwargs)
    return buffer.getvalue()


def png(image: Image.Image, kind: str = "PNG", **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **kwargs)
    return buffer.getvalue()


def drawn(lines: list[str], font: Any, size: tuple[int, int] = (520, 130)) -> bytes:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((12, 12 + index * 52), line, font=font, fill="black")
    return png(image)


def cjk_font(size: int) -> Any:
    path = next((p for p in CJK_FONTS if Path(p).is_file()), None)
    # `make test` installs it; without one, Chinese in images (and screenshots, our evidence) is empty boxes
    assert path is not None, "no CJK font installed (Debian: fonts-wqy-microhei); run `make system-deps`"
    return ImageFont.truetype(path, size)


@pytest.fixture(scope="module")
def ocr_engine() -> None:
    """Build the OCR engine once for this module, with every socket refused: it must load its bundled models
    and run without a network."""

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the OCR engine tried to open a socket")

    images_module._ocr_engine.cache_clear()
    original = socket.socket
    socket.socket = no_network  # type: ignore[assignment,misc]
    try:
        assert images_module.ocr_available()
        assert read_text(drawn(["12345"], ImageFont.load_default(size=30))) is not None
    finally:
        socket.socket = original  # type: ignore[misc]


# --- QR codes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [WECHAT_LINK, "https://weixin.qq.com/g/AQYAAAbc_-9xYz", "https://qm.qq.com/cgi-bin/qm/qr?k=abcDEF&jump_from=webapi",
     "13812345678", "微信号：hzgh_kefu01", "BEGIN:VCARD\nFN:李\nTEL:0571-87236114\nEND:VCARD"],
)  # fmt: skip
def test_generated_qr_codes_decode(payload: str) -> None:
    assert decode_qr(qr_png(payload)) == [payload]


def test_a_wechat_qr_code_is_a_wechat_contact() -> None:
    [payload] = decode_qr(qr_png(WECHAT_LINK))
    assert qr_contacts(payload) == [("wechat", WECHAT_LINK)]


def test_qr_codes_in_awkward_images() -> None:
    tiny = qr_png(WECHAT_LINK, scale=1)  # one pixel per module: decoded after enlarging
    assert decode_qr(tiny) == [WECHAT_LINK]
    # dark modules on transparent *black*: flattened naively the whole image turns black
    grey = Image.open(io.BytesIO(qr_png(WECHAT_LINK, scale=3))).convert("L")
    transparent = Image.new("RGBA", grey.size, (0, 0, 0, 0))
    transparent.putalpha(grey.point(lambda v: 255 if v < 128 else 0))
    assert decode_qr(png(transparent)) == [WECHAT_LINK]
    assert decode_qr(qr_png(WECHAT_LINK, scale=3, light=None)) == [WECHAT_LINK]  # a 1-bit PNG with tRNS
    code = Image.open(io.BytesIO(qr_png(WECHAT_LINK, scale=3))).convert("RGB")
    jpeg = png(code, "JPEG", quality=70)
    assert decode_qr(jpeg) == [WECHAT_LINK]
    gif = png(code.convert("P"), "GIF", save_all=True, append_images=[Image.new("P", code.size)])
    assert decode_qr(gif) == [WECHAT_LINK]  # the first frame of an animation
    poster = Image.new("RGB", (900, 500), (200, 30, 30))
    poster.paste(code, (40, 60))
    poster.paste(Image.open(io.BytesIO(qr_png("https://weixin.qq.com/g/AQYAAAbc_-9xYz", scale=3))).convert("RGB"),
                 (500, 60))  # fmt: skip
    assert sorted(decode_qr(png(poster))) == sorted([WECHAT_LINK, "https://weixin.qq.com/g/AQYAAAbc_-9xYz"])


def test_images_without_a_qr_code() -> None:
    assert decode_qr(png(Image.new("RGB", (200, 200), "white"))) == []
    noise = Image.frombytes("L", (120, 120), random.Random(7).randbytes(120 * 120))
    assert decode_qr(png(noise)) == []


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


MALFORMED = {
    "empty": b"",
    "text": b"this is not an image",
    "html": b"<html><body>404</body></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="9" height="9"/></svg>',
    "truncated png": qr_png(WECHAT_LINK)[:60],
    "png signature only": b"\x89PNG\r\n\x1a\n",
    "decompression bomb": b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    + _png_chunk(b"IEND", b""),
    "corrupt data": qr_png(WECHAT_LINK)[:40] + bytes(200) + qr_png(WECHAT_LINK)[240:],
    "one pixel": png(Image.new("RGB", (1, 1))),
    "jpeg header only": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_images_give_nothing_and_never_raise(name: str, ocr_engine: None) -> None:
    data = MALFORMED[name]
    assert decode_qr(data) == []
    assert read_text(data) == ""
    assert not read_image(data).readable


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"\xff\xd8\xff", b"BM"]))
def test_arbitrary_bytes_never_raise(data: bytes, signature: bytes) -> None:
    assert read_image(signature + data, ocr=False).qr == ()


# --- contacts of QR payloads --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "contacts"),
    [
        (WECHAT_LINK, [("wechat", WECHAT_LINK)]),
        ("HTTPS://U.WECHAT.COM/EF8k3mL2Q1?from=timeline", [("wechat", WECHAT_LINK)]),
        ("http://weixin.qq.com/r/abcDEF123", [("wechat", "https://weixin.qq.com/r/abcDEF123")]),
        ("https://weixin.qq.com/g/AQYAAAbc_-9xYz", [("wechat", "https://weixin.qq.com/g/AQYAAAbc_-9xYz")]),
        ("https://work.weixin.qq.com/u/vc1234abcd?v=4", [("wechat", "https://work.weixin.qq.com/u/vc1234abcd")]),
        ("weixin://dl/business/?t=Ab12Cd", [("wechat", "weixin://dl/business/?t=Ab12Cd")]),
        ("wxp://f2f0abcDEF123", [("wechat", "wxp://f2f0abcDEF123")]),
        ("https://qm.qq.com/cgi-bin/qm/qr?k=abcDEF&jump_from=webapi",
         [("qq", "https://qm.qq.com/cgi-bin/qm/qr?k=abcDEF")]),
        ("https://qm.qq.com/q/Xy12AbC", [("qq", "https://qm.qq.com/q/Xy12AbC")]),
        ("https://jq.qq.com/?_wv=1027&k=5AbCdE", [("qq", "https://jq.qq.com/?k=5AbCdE")]),
        ("tencent://message/?uin=3094417726&Site=qq", [("qq", "3094417726")]),
        ("http://wpa.qq.com/msgrd?v=3&uin=3094417726&site=qq&menu=yes", [("qq", "3094417726")]),
        ("13812345678", [("mobile", "13812345678")]),
        ("tel:+86 138 1234 5678", [("mobile", "13812345678")]),
        ("BEGIN:VCARD\nFN:李\nTEL:0571-87236114\nEND:VCARD", [("landline", "0571-87236114")]),
        ("MECARD:N:Li;TEL:4006883172;;", [("tollfree", "4006883172")]),
        ("微信号：hzgh_kefu01", [("wechat", "hzgh_kefu01")]),
        ("https://www.example.com/page?id=13812345678", []),
        ("", []),
    ],
)  # fmt: skip
def test_qr_contacts(payload: str, contacts: list[tuple[str, str]]) -> None:
    assert qr_contacts(payload) == contacts


def test_qr_contact_values_fit_the_stored_width() -> None:
    [(kind, value)] = qr_contacts("weixin://dl/business/?t=" + "A" * 300)
    assert kind == "wechat" and len(value) == 100


# --- OCR ----------------------------------------------------------------------------------------------------


def test_ocr_reads_chinese_contact_text(ocr_engine: None) -> None:
    card = drawn(["加微信 13812345678", "客服QQ：3094417726"], cjk_font(30))
    started = time.monotonic()
    text = read_text(card)
    assert time.monotonic() - started < 5
    assert "13812345678" in text.replace(" ", "") and "3094417726" in text and "微信" in text
    found = {(c.kind, c.value) for c in extract_contacts(normalise(text))}  # what the scorer reads in image texts
    assert found == {("mobile", "13812345678"), ("wechat", "13812345678"), ("qq", "3094417726")}


def test_read_image_reads_qr_and_text_of_one_image(ocr_engine: None) -> None:
    image = Image.new("RGB", (560, 260), "white")
    image.paste(Image.open(io.BytesIO(qr_png(WECHAT_LINK, scale=4))).convert("RGB"), (10, 10))
    ImageDraw.Draw(image).text((250, 100), "QQ 3094417726", font=ImageFont.load_default(size=30), fill="black")
    read = read_image(png(image))
    assert read.readable and read.qr == (WECHAT_LINK,)
    assert "3094417726" in read.text
    assert read_image(png(image), ocr=False).text == ""


# --- ImageSignal --------------------------------------------------------------------------------------------


def evaluate_images(*texts: ImageText, hotlines: frozenset[str] = frozenset()) -> Any:
    return ImageSignal(hotlines=hotlines).evaluate(PageInput("页面", image_texts=texts), normalise("页面"))


def test_a_wechat_qr_code_on_a_page_is_a_contact() -> None:
    output = evaluate_images(ImageText("http://x.cn/qr.png", "qr", WECHAT_LINK))
    assert output.contacts == {"wechat": [WECHAT_LINK]}
    assert output.contact_sources == {f"wechat:{WECHAT_LINK}": "qr"}
    [reason] = output.reasons
    assert (reason.rule_id, reason.kind, reason.start, reason.end) == ("qr.wechat", "contact", -1, -1)
    assert reason.weight > 0 and WECHAT_LINK in reason.text and "http://x.cn/qr.png" in reason.text


def test_image_signal_reports_what_text_extraction_cannot_see() -> None:
    output = evaluate_images(
        ImageText("a.png", "qr", "https://weixin.qq.com/g/AQYAAAbc_-9xYz"),
        ImageText("b.png", "qr", "tencent://message/?uin=3094417726"),
        ImageText("c.png", "ocr", "客服QQ 3094417726\n电话 0571-87236114 投诉 020-83848400\n热线 400-688-3172"),
        ImageText("d.png", "qr", "https://www.example.com/"),
        ImageText("e.png", "qr", "MECARD:N:Li;TEL:4006883172;TEL:13812345678;;"),
        ImageText("f.png", "qr", "https://jq.qq.com/?_wv=1027&k=5AbCdE"),
        hotlines=frozenset({"0571-87236114"}),
    )
    assert [r.rule_id for r in output.reasons] == [
        "qr.wechat_group", "qr.qq", "qr.tollfree", "qr.qq_group", "ocr.landline",
    ]  # fmt: skip
    assert output.contacts == {
        "wechat": ["https://weixin.qq.com/g/AQYAAAbc_-9xYz"],
        "qq": ["3094417726", "https://jq.qq.com/?k=5AbCdE"],
        "tollfree": ["4006883172"],
        "landline": ["020-83848400"],
    }
    # found in a QR code and by OCR: reported once, from the QR code
    assert output.contact_sources["tollfree:4006883172"] == "qr"
    assert output.contact_sources["landline:020-83848400"] == "ocr"


def test_image_numbers_the_text_already_shows_are_not_counted_again() -> None:
    images = (ImageText("c.png", "ocr", "电话 020-83848400"),)
    text = "联系电话：020-8384 8400"
    output = ImageSignal(hotlines=frozenset()).evaluate(PageInput(text, image_texts=images), normalise(text))
    assert output.reasons == () and output.contacts == {}


def test_no_images_no_evidence() -> None:
    assert evaluate_images().reasons == ()


def test_the_scorer_with_both_signals_counts_each_image_contact_once(ocr_engine: None) -> None:
    from keywords import load_scorer
    from keywords.identifiers import IdentifierSignal

    scorer = load_scorer(signals=[IdentifierSignal(hotlines=frozenset()), ImageSignal(hotlines=frozenset())])
    images = (
        ImageText("a.png", "qr", WECHAT_LINK),
        ImageText(
            "b.png", "ocr", read_text(drawn(["QQ 3094417726", "TEL 0571-87236114"], ImageFont.load_default(size=30)))
        ),
    )
    result = scorer.score("瀚州名医代挂号\n专家号代挂，号满可加。扫码加客服微信。", image_texts=images)
    assert result.hit and result.category == "scalper_service"
    rule_ids = [r.rule_id for r in result.reasons if r.start == -1]
    assert sorted(rule_ids) == ["contact.qq", "ocr.landline", "qr.wechat"]
    assert result.contact_sources == {
        f"wechat:{WECHAT_LINK}": "qr", "qq:3094417726": "ocr", "landline:0571-87236114": "ocr",
    }  # fmt: skip


# --- candidate images ---------------------------------------------------------------------------------------

PAGE = """<html><head><base href="http://x.cn/sub/"></head><body>
<div class="nav"><img src="/logo.png" alt="logo"></div>
<div class="kefu"><p>扫码添加客服微信</p><img data-src="img/qr1.png" src="/img/blank.gif"></div>
<p>这是一篇普通的文章，介绍医院的历史。</p><img src="photo.jpg" title="院史">
<img src="pixel.gif" width="1" height="1"><img src="a.svg"><img src="mailto:x@y.z">
<img src="data:image/png;base64,iVBORw0KGgo=">
<table><tr><td>联系我们</td><td><img src="http://cdn.y.com/p/123.jpg"></td></tr></table>
<p>加我微信：</p><p><img src="/u/9.jpg"></p>
<img src="ewm.png"><img src="img/qr1.png">
<div><p>医院大楼外景，建于一九五二年，几经扩建。</p><img data-original="/lazy.jpg" alt="外景"></div>
</body></html>"""


def test_candidate_images() -> None:
    found = candidate_images(PAGE, "http://x.cn/a.html")
    assert found == [
        CandidateImage("http://x.cn/logo.png", "logo", "", False),
        CandidateImage("http://x.cn/sub/img/qr1.png", "", "", True),
        CandidateImage("http://x.cn/sub/photo.jpg", "", "院史", False),
        CandidateImage("data:image/png;base64,iVBORw0KGgo=", "", "", False),
        CandidateImage("http://cdn.y.com/p/123.jpg", "", "", True),
        CandidateImage("http://x.cn/u/9.jpg", "", "", True),
        CandidateImage("http://x.cn/sub/ewm.png", "", "", True),
        CandidateImage("http://x.cn/lazy.jpg", "外景", "", False),
    ]


@pytest.mark.parametrize(
    ("html", "contact"),
    [
        ('<p><img src="/a.png" alt="扫码加微信"></p>', True),
        ('<p><img src="/a.png" title="客服二維碼"></p>', True),
        ('<div><span>长按识别二维码</span><img src="/a.png"></div>', True),
        ('<div><img src="/a.png"><br>微信扫一扫，添加好友</div>', True),
        ('<ul><li>客服</li><li><img src="/a.png"></li></ul>', True),
        ('<div><img src="/a.png"></div><p>联系电话见上图</p>', True),
        ('<div><img src="/weixin_qr.jpg"></div>', True),
        ('<div><img src="/banner.jpg"></div><div><p>扫码</p><img src="/b.png"></div>', False),
        ("<div><p>" + "医院简介。" * 80 + "欢迎联系。</p><p>正文继续</p><img src='/a.png'></div>", False),
        ('<img src="/a.png"><p>' + "正文" * 200 + "</p>", False),
    ],
)
def test_contact_blocks(html: str, contact: bool) -> None:
    found = candidate_images(f"<html><body>{html}</body></html>", "http://x.cn/")
    assert found[0].in_contact_block is contact


def test_no_candidates_in_empty_or_broken_html() -> None:
    assert candidate_images("", "http://x.cn/") == []
    assert candidate_images("<<<>>>", "http://x.cn/") == []
    assert candidate_images("<p>没有图片</p>", "http://x.cn/") == []


# --- the pipeline alone (a fake engine) ---------------------------------------------------------------------


class FakeStats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count

    def images(self) -> dict[str, int]:
        return {k.removeprefix("touthunt/images/"): v for k, v in self.values.items() if k.startswith("touthunt/")}


class FakeEngine:
    """Answers image requests from a dict of URL -> bytes | status | exception | ("slow", seconds)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.requests: list[Request] = []

    async def download_async(self, request: Request) -> Response:
        self.requests.append(request)
        answer = self.answers.get(request.url, 404)
        if isinstance(answer, tuple):
            await asyncio.sleep(answer[1])
            answer = answer[2]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return Response(request.url, status=answer, body=b"")
        return Response(request.url, status=200, body=answer, request=request)


class FakeScore:
    def __init__(self, score: int) -> None:
        self.score = score


class FakeScorer:
    def __init__(self, score: int) -> None:
        self.value = score

    def score(self, text: str, *, url: str | None = None, links: Any = ()) -> FakeScore:
        return FakeScore(self.value)


def make_pipeline(answers: dict[str, Any], *, score: int = 0, **config: Any) -> tuple[ImagePipeline, Any]:
    settings = {"ocr": False, **config}
    pipeline = ImagePipeline(ImagesConfig(**settings), scorer=FakeScorer(score))  # type: ignore[arg-type]
    crawler = type("Crawler", (), {"engine": FakeEngine(answers), "stats": FakeStats()})()
    pipeline.crawler = crawler
    pipeline.open_spider()
    return pipeline, crawler


def page(html: str) -> PageItem:
    from datetime import UTC, datetime

    return PageItem(
        source="t", url="http://x.cn/", final_url="http://x.cn/", http_status=200, html=html, encoding="utf-8",
        fetched_at=datetime.now(UTC), text="正文",
    )  # fmt: skip


def process(pipeline: ImagePipeline, item: PageItem) -> PageItem:
    try:
        return asyncio.run(pipeline.process_item(item))
    finally:
        pipeline.close_spider()


def test_pipeline_reads_contact_block_images_and_counts_failures() -> None:
    html = (
        '<div><p>扫码加微信</p><img src="/qr.png"></div><p>客服</p><img src="/gone.png">'
        '<p>客服</p><img src="/slow.png"><p>客服</p><img src="/timeout.png"><p>客服</p><img src="/big.png">'
        '<p>客服</p><img src="/junk.png">'
    )
    answers = {
        "http://x.cn/qr.png": qr_png(WECHAT_LINK),
        "http://x.cn/slow.png": ("slow", 0.05, qr_png("13812345678")),
        "http://x.cn/timeout.png": TwistedTimeoutError(),
        "http://x.cn/big.png": bytes(5000),
        "http://x.cn/junk.png": b"junk",
    }
    pipeline, crawler = make_pipeline(answers, max_bytes=4096)
    item = process(pipeline, page(html))
    assert item.image_texts == [
        ImageText("http://x.cn/qr.png", "qr", WECHAT_LINK),
        ImageText("http://x.cn/slow.png", "qr", "13812345678"),
    ]
    assert crawler.stats.images() == {
        "pages": 1, "downloaded": 3, "qr": 2, "http_404": 1, "timeout": 1, "too_large": 1, "unreadable": 1,
    }  # fmt: skip
    request = crawler.engine.requests[0]
    assert request.meta["download_maxsize"] == 4096 and request.meta["dont_retry"]
    assert request.headers[b"Referer"] == b"http://x.cn/"


def test_pipeline_gives_up_at_the_page_budget_and_keeps_the_page() -> None:
    html = '<p>扫码</p><img src="/qr.png"><p>扫码</p><img src="/hang.png">'
    answers = {"http://x.cn/qr.png": qr_png(WECHAT_LINK), "http://x.cn/hang.png": ("slow", 30, b"")}
    pipeline, crawler = make_pipeline(answers, budget_seconds=0.3)
    started = time.monotonic()
    item = process(pipeline, page(html))
    assert time.monotonic() - started < 2
    assert item.image_texts == [ImageText("http://x.cn/qr.png", "qr", WECHAT_LINK)]
    assert crawler.stats.images()["budget"] == 1


def test_pipeline_reads_data_uris_without_downloading() -> None:
    import base64

    uri = "data:image/png;base64," + base64.b64encode(qr_png(WECHAT_LINK)).decode()
    pipeline, crawler = make_pipeline({}, score=80)
    item = process(pipeline, page(f'<img src="{uri}">'))
    [text] = item.image_texts
    assert text.kind == "qr" and text.text == WECHAT_LINK and text.src.startswith("data:image;sha256=")
    assert crawler.engine.requests == []


def test_pipeline_reads_only_suspicious_pages() -> None:
    html = '<p>文章配图</p><img src="/1.png"><img src="/2.png"><img src="/3.png">'
    answers = {f"http://x.cn/{n}.png": qr_png(f"https://u.wechat.com/code{n}") for n in (1, 2, 3)}
    pipeline, crawler = make_pipeline(answers, score=10, score_floor=25)
    item = process(pipeline, page(html))
    assert item.image_texts == [] and crawler.engine.requests == []
    assert crawler.stats.images() == {"skipped_low_score": 1}
    assert item.extra["preliminary_score"] == 10

    pipeline, crawler = make_pipeline(answers, score=30, score_floor=25, max_per_page=2)
    item = process(pipeline, page(html + '<div>扫码加微信<img src="/4.png"></div>'))
    assert [r.url for r in crawler.engine.requests] == ["http://x.cn/4.png", "http://x.cn/1.png"]


def test_pipeline_leaves_other_items_alone_and_is_off_when_disabled() -> None:
    pipeline, crawler = make_pipeline({})
    assert asyncio.run(pipeline.process_item({"not": "a page"})) == {"not": "a page"}
    item = process(pipeline, page(""))
    assert item.image_texts == [] and crawler.stats.values == {}
    disabled = type("Crawler", (), {"settings": type("S", (), {"getdict": lambda self, key: {"enabled": False}})()})()
    with pytest.raises(NotConfigured):
        ImagePipeline.from_crawler(disabled)


# --- end to end through the replay web ----------------------------------------------------------------------


class ImageTextsRecorder:
    """Test-only pipeline placed after ImagePipeline in the crawl child: writes each page's image texts and,
    at the end, the image stats to the JSON file named by the TEST_IMAGE_RECORD setting."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.path = Path(crawler.settings["TEST_IMAGE_RECORD"])
        self.pages: dict[str, list[list[str]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> ImageTextsRecorder:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            self.pages[item.url] = [[t.src, t.kind, t.text] for t in item.image_texts]
        return item

    def close_spider(self, spider: Any = None) -> None:
        stats = {k: v for k, v in self.crawler.stats.get_stats().items() if k.startswith("touthunt/images/")}
        self.path.write_text(json.dumps({"pages": self.pages, "stats": stats}, ensure_ascii=False), encoding="utf-8")


def test_image_pipeline_end_to_end_through_the_replay_web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler import runner
    from crawler.settings import build_settings
    from replayweb import ReplayWeb
    from storage.db import make_engine, make_sessionmaker, upgrade

    web_dir = tmp_path / "web"
    shutil.copytree(FIXTURE_WEB, web_dir)
    host = "www.hz-qrtest.com"
    card = drawn(["QQ 3094417726"], ImageFont.load_default(size=34), size=(420, 80))
    bodies = {
        "/img/wx-qr.png": qr_png(WECHAT_LINK, scale=5),
        "/img/card.png": card,
        "/img/big.png": random.Random(1).randbytes(60_000),
    }
    record = tmp_path / "record.json"

    def settings_with_images(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built = build_settings(*args, **kwargs)
        built["ITEM_PIPELINES"] = {
            **built["ITEM_PIPELINES"],
            "pipelines.images.ImagePipeline": 250,
            f"{__name__}.ImageTextsRecorder": 260,
        }
        built["TEST_IMAGE_RECORD"] = str(record)
        return built

    monkeypatch.setattr(runner, "build_settings", settings_with_images)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))

    with ReplayWeb(web_dir) as web:
        site = web.web.sites[host]
        for key, body in bodies.items():  # routes cannot hold binary files: give them generated bodies
            site.routes[key] = replace(site.routes[key], generate=None, body=body)  # type: ignore[index]
        config_path = tmp_path / "config.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "database": {"url": "sqlite:///e2e.sqlite"},
                    "network": {
                        "proxy": web.proxy_url,
                        "timeout_seconds": 5,
                        "retries": 0,
                        "download_delay_seconds": 0,
                    },
                    "sources": [
                        {"name": "qrtest", "start_urls": [f"http://{host}/"], "max_depth": 1, "obey_robots": False}
                    ],
                    "images": {"max_bytes": 50_000, "budget_seconds": 20, "score_floor": 25},
                }
            ),
            encoding="utf-8",
        )
        config = load_config(config_path)
        engine = make_engine(config.database_url)
        upgrade(engine)
        summary = runner.run_source(config, config.sources[0], make_sessionmaker(engine), show_progress=False)
        engine.dispose()
        requested = [url for _method, url, _status in web.requests_log]

    assert summary.status == "finished", summary
    assert summary.pages_stored == 2  # image failures never drop a page
    recorded = json.loads(record.read_text(encoding="utf-8"))
    texts = [ImageText(*t) for t in recorded["pages"][f"http://{host}/"]]
    assert ImageText(f"http://{host}/img/wx-qr.png", "qr", WECHAT_LINK) in texts
    [ocr] = [t for t in texts if t.kind == "ocr" and t.src.endswith("/img/card.png")]
    assert "3094417726" in ocr.text
    assert recorded["pages"][f"http://{host}/caipu.html"] == []
    stats = {k.removeprefix("touthunt/images/"): v for k, v in recorded["stats"].items()}
    assert stats["pages"] == 1 and stats["skipped_low_score"] == 1 and stats["qr"] == 1 and stats["ocr"] >= 1
    assert (stats["http_404"], stats["unreadable"], stats["too_large"], stats["downloaded"]) == (1, 1, 1, 3)
    # downloaded through the crawler's own downloader, i.e. through the configured proxy
    assert f"http://{host}/img/wx-qr.png" in requested
    assert f"http://{host}/img/dish.jpg" not in requested

    output = ImageSignal(hotlines=frozenset()).evaluate(PageInput("", image_texts=tuple(texts)), normalise(""))
    assert output.contacts == {"wechat": [WECHAT_LINK]} and output.contact_sources == {f"wechat:{WECHAT_LINK}": "qr"}
    assert ("qq", "3094417726") in {(c.kind, c.value) for c in extract_contacts(normalise(ocr.text))}
