"""Reading a page's images: QR codes and drawn text, the contacts they carry, and `ImageSignal`.

Scalpers put their WeChat in a QR code or draw their number into a picture so text filters never see it. This
module owns turning image bytes into text and that text into contacts:

* `decode_qr` -- QR, Micro QR and rMQR codes with zxing-cpp (a wheel, no system library); Pillow opens the image.
  Small images are retried enlarged (a QR code drawn one pixel per module is too small for the detector).
* `read_text` -- OCR with rapidocr-onnxruntime, whose PP-OCR detection, classification and recognition models
  (about 16 MB) ship inside the wheel: it runs offline. The engine is built once per process on first use;
  calls are serialised (one model in memory, no thread oversubscription on small machines).
* Broken input never raises: bytes that are not an image, truncated files, decompression bombs, images larger
  than `MAX_PIXELS` or smaller than `MIN_SIDE` give no QR payload and no text. Pillow's many decoders raise
  many exception types, so opening catches them all.
* `qr_contacts` -- the contacts of a QR payload: WeChat personal, group, Work-WeChat and pay links
  (``https://u.wechat.com/…``, ``https://weixin.qq.com/r/…`` and ``/g/…``, ``https://work.weixin.qq.com/u/…``,
  ``weixin://…``, ``wxp://…``) as kind ``wechat`` with the link as value (scheme and host lower-cased, query
  dropped except for ``weixin://``, whose token may be in it); QQ links (``https://qm.qq.com/…``,
  ``https://jq.qq.com/?k=…``) as kind ``qq`` with the link, or with the number when the link carries one
  (``uin=``); anything else (plain or ``tel:`` numbers, vCards, "微信号: …") through the text extractors of
  `keywords.contacts` and `keywords.identifiers`. Values are cut to 100 characters (the stored width).
* `ImageSignal` -- the contacts in `PageInput.image_texts` that the scorer's own reading of image texts
  (`keywords.scorer`: mobile numbers, WeChat IDs and QQ numbers found by `keywords.contacts`, rule ids
  ``contact.<kind>``) cannot see: WeChat and QQ *links* in QR codes (rule ids ``qr.wechat``, ``qr.wechat_group``,
  ``qr.wechat_pay``, ``qr.qq``, ``qr.qq_group``; a WeChat QR code on a page is a contact like a WeChat ID in its
  text) and landline and 400/800 numbers in QR payloads or OCR text (``qr.landline``, ``ocr.tollfree`` ...).
  Each is a ``contact`` reason with its source ``qr`` or ``ocr``; numbers the page text already shows and
  official hotlines (`keywords.identifiers.load_official_hotlines`) are left out, so nothing is counted twice.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from keywords.contacts import extract_contacts
from keywords.identifiers import find_phone_contacts, load_official_hotlines
from keywords.normalisation import normalise
from keywords.signals import SignalOutput, SignalReason

if TYPE_CHECKING:
    from PIL.Image import Image

    from keywords.normalisation import NormalisedText
    from keywords.signals import PageInput

__all__ = [
    "CONTACT_WEIGHTS",
    "MAX_PIXELS",
    "MIN_SIDE",
    "ImageRead",
    "ImageSignal",
    "decode_qr",
    "ocr_available",
    "qr_contacts",
    "read_image",
    "read_text",
]

log = logging.getLogger(__name__)

MAX_PIXELS = 16_000_000  # larger images are skipped (a 4000 x 4000 photo; no contact card is that big)
MIN_SIDE = 16  # icons and tracking pixels
_ENLARGE_BELOW = 240  # images with a shorter side are retried enlarged when no QR code is found
_MIN_OCR_SCORE = 0.5
_MAX_VALUE = 100
_MAX_REASON_TEXT = 200

#: Weights of image contacts by rule id (the same scale as text contacts).
CONTACT_WEIGHTS: dict[str, float] = {
    "mobile": 12.0,
    "wechat": 12.0,
    "wechat_group": 10.0,
    "wechat_pay": 10.0,
    "qq": 10.0,
    "landline": 6.0,
    "tollfree": 8.0,
}

_WECHAT_LINKS = (
    (re.compile(r"https?://u\.wechat\.com/([A-Za-z0-9_\-]+)", re.I), "https://u.wechat.com/", "wechat"),
    (re.compile(r"https?://weixin\.qq\.com/r/([A-Za-z0-9_\-]+)", re.I), "https://weixin.qq.com/r/", "wechat"),
    (re.compile(r"https?://weixin\.qq\.com/g/([A-Za-z0-9_\-]+)", re.I), "https://weixin.qq.com/g/", "wechat_group"),
    (
        re.compile(r"https?://work\.weixin\.qq\.com/(?:u|ca)/([A-Za-z0-9_\-]+)", re.I),
        "https://work.weixin.qq.com/u/",
        "wechat",
    ),
    (re.compile(r"weixin://(\S+)", re.I), "weixin://", "wechat"),  # the token may be in the query
    (re.compile(r"wxp://([A-Za-z0-9_\-]+)", re.I), "wxp://", "wechat_pay"),
)
_QQ_LINK = re.compile(r"(?:https?://(?:[a-z0-9-]+\.)*qq\.com|tencent|mqqapi|mqqwpa|mqq)[:/][^\s]*", re.I)
_QQ_NUMBER = re.compile(r"[1-9][0-9]{4,10}")
_PHONE_KINDS = frozenset({"landline", "tollfree"})


# --- opening ------------------------------------------------------------------------------------------------


def _open(data: bytes) -> Image | None:
    """The first frame of an image as RGB on white, or None when ``data`` is not a usable image."""
    from PIL import Image as PILImage

    try:
        image = PILImage.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PIXELS or min(width, height) < MIN_SIDE:
            return None
        image.load()
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            background = PILImage.new("RGB", rgba.size, "white")
            background.paste(rgba, mask=rgba.getchannel("A"))
            return background
        return image.convert("RGB")
    except Exception:  # Pillow's decoders raise OSError, ValueError, SyntaxError, EOFError, struct.error, ...
        return None


# --- QR codes -----------------------------------------------------------------------------------------------


def _qr_in(image: Image) -> list[str]:
    import zxingcpp

    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.MicroQRCode, zxingcpp.BarcodeFormat.RMQRCode)
    grey = image.convert("L")
    attempts = [grey]
    if min(grey.size) < _ENLARGE_BELOW:
        factor = -(-_ENLARGE_BELOW // min(grey.size))
        attempts.append(grey.resize((grey.width * factor, grey.height * factor), resample=0))  # nearest
    for attempt in attempts:
        try:
            found = zxingcpp.read_barcodes(attempt, formats=formats)
        except (RuntimeError, ValueError):
            continue
        texts = list(dict.fromkeys(b.text for b in found if b.text))
        if texts:
            return texts
    return []


def decode_qr(data: bytes) -> list[str]:
    """The payloads of the QR codes in an image (in reading order, no duplicates); [] for anything else."""
    image = _open(data)
    return _qr_in(image) if image is not None else []


# --- OCR ----------------------------------------------------------------------------------------------------

_OCR_LOCK = threading.Lock()


@cache
def _ocr_engine() -> Any:
    """The OCR engine with its bundled models, or None when rapidocr-onnxruntime cannot be loaded."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        log.error("OCR unavailable: %s", exc)
        return None
    # "max" limits the longer side instead of enlarging every image to 736 px: 4x faster on banners and cards.
    return RapidOCR(det_limit_type="max", det_limit_side_len=960)


def ocr_available() -> bool:
    """Whether the OCR engine loads (builds it if needed)."""
    with _OCR_LOCK:
        return _ocr_engine() is not None


def _text_in(image: Image) -> str:
    with _OCR_LOCK:
        engine = _ocr_engine()
        if engine is None:
            return ""
        try:
            result, _elapsed = engine(image)
        except Exception as exc:  # the engine's pre-processing fails on odd shapes (1-pixel-high strips, ...)
            log.debug("OCR failed: %s", exc)
            return ""
    lines = [str(text) for _box, text, score in (result or []) if float(score) >= _MIN_OCR_SCORE and text]
    return "\n".join(lines)


def read_text(data: bytes) -> str:
    """The text drawn in an image, one line per detected text box, top to bottom; "" for anything else."""
    image = _open(data)
    return _text_in(image) if image is not None else ""


@dataclass(frozen=True, slots=True)
class ImageRead:
    """What one image holds: QR payloads and OCR text; ``readable`` is False when it is no usable image."""

    readable: bool
    qr: tuple[str, ...] = ()
    text: str = ""


def read_image(data: bytes, *, ocr: bool = True) -> ImageRead:
    """Open ``data`` once, decode its QR codes and (if ``ocr``) read its text."""
    image = _open(data)
    if image is None:
        return ImageRead(readable=False)
    return ImageRead(True, tuple(_qr_in(image)), _text_in(image) if ocr else "")


# --- contacts of QR payloads --------------------------------------------------------------------------------


def _cut(value: str) -> str:
    return value[:_MAX_VALUE]


def _qq_link(payload: str) -> tuple[str, str, str, bool] | None:
    m = _QQ_LINK.match(payload)
    if m is None:
        return None
    link = m.group()
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    for key in ("uin", "u"):
        for value in query.get(key, []):
            if _QQ_NUMBER.fullmatch(value):
                return "qq", value, "qq", True
    host = (parts.hostname or "").lower()
    if host == "qm.qq.com":
        if "k" in query:
            return "qq", _cut(f"https://qm.qq.com{parts.path}?k={query['k'][0]}"), "qq", True
        return "qq", _cut(f"https://qm.qq.com{parts.path}"), "qq", True
    if host == "jq.qq.com" and "k" in query:
        return "qq", _cut(f"https://jq.qq.com/?k={query['k'][0]}"), "qq_group", True
    return None


def _classify(payload: str) -> list[tuple[str, str, str, bool]]:
    """(contact kind, value, rule, from a link) of every contact in a QR payload."""
    payload = payload.strip()
    for pattern, prefix, rule in _WECHAT_LINKS:
        m = pattern.match(payload)
        if m:
            return [("wechat", _cut(prefix + m.group(1)), rule, True)]
    qq = _qq_link(payload)
    if qq is not None:
        return [qq]
    if re.match(r"https?://", payload, re.I):
        return []  # an ordinary link is not a contact (the link graph sees it)
    text = normalise(payload)
    found = [(c.kind, c.value, c.kind, False) for c in extract_contacts(text)]
    found += [(p.kind, p.value, p.kind, False) for p in find_phone_contacts(text)]
    return list(dict.fromkeys(found))


def qr_contacts(payload: str) -> list[tuple[str, str]]:
    """The contacts a QR payload carries, as (kind, normalised value) pairs, no duplicates."""
    return list(dict.fromkeys((kind, value) for kind, value, _rule, _link in _classify(payload)))


# --- the signal ---------------------------------------------------------------------------------------------


def _short(text: str, src: str) -> str:
    shown = text if len(text) <= _MAX_REASON_TEXT else text[: _MAX_REASON_TEXT - 1] + "…"
    where = src if len(src) <= 120 else src[:119] + "…"
    return f"{shown} [{where}]"


class ImageSignal:
    """Contacts from the QR payloads and OCR text of a page's images that text extraction does not find
    (module docstring): QR links, and landline and toll-free numbers."""

    name = "images"

    def __init__(self, *, hotlines: frozenset[str] | None = None) -> None:
        self.hotlines = load_official_hotlines() if hotlines is None else hotlines

    def evaluate(self, page: PageInput, normalised: NormalisedText) -> SignalOutput:
        if not page.image_texts:
            return SignalOutput()
        in_text = {(p.kind, p.value) for p in find_phone_contacts(normalised)}
        reasons: list[SignalReason] = []
        contacts: dict[str, set[str]] = {}
        sources: dict[str, str] = {}

        def add(kind: str, value: str, rule: str, source: str, shown: str) -> None:
            key = f"{kind}:{value}"
            if key in sources or (kind, value) in in_text or value in self.hotlines:
                return
            contacts.setdefault(kind, set()).add(value)
            sources[key] = source
            weight = CONTACT_WEIGHTS.get(rule, CONTACT_WEIGHTS.get(kind, 10.0))
            reasons.append(SignalReason(f"{source}.{rule}", shown, -1, -1, weight, "contact"))

        for image_text in sorted(page.image_texts, key=lambda t: t.kind != "qr"):  # a QR code is the better source
            if image_text.kind == "qr":
                for kind, value, rule, link in _classify(image_text.text):
                    if link or kind in _PHONE_KINDS:  # the scorer reads mobiles, WeChat IDs and QQ numbers
                        add(kind, value, rule, "qr", _short(image_text.text, image_text.src))
            else:
                text = normalise(image_text.text)
                for p in find_phone_contacts(text, hotlines=self.hotlines):
                    add(p.kind, p.value, p.kind, "ocr", _short(text.original[p.start : p.end], image_text.src))
        return SignalOutput(
            reasons=tuple(reasons),
            contacts={kind: sorted(values) for kind, values in contacts.items()},
            contact_sources=sources,
        )
