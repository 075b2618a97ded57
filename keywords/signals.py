"""The extension point of the scorer: a *signal* looks at a page (its text, URL, outgoing links and the text
read from its images) and returns evidence, contacts and identifiers, which the scorer weighs with the
lexicon's own evidence under one formula.

Built-in signals: identifiers and phone-like contacts (`keywords.identifiers`), links and look-alike
hospitals (`keywords.links`). A signal is pure: no network, no database, no clock; anything it needs from
outside (an imported certificate list, known-bad domains) is handed to its constructor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from keywords.result import Identifier

if TYPE_CHECKING:
    from keywords.normalisation import NormalisedText

__all__ = ["ImageText", "PageInput", "Signal", "SignalOutput", "SignalReason"]

# How the scorer treats a signal's evidence (see keywords/scorer.py):
#   core     evidence on its own (counts toward "has core evidence")
#   support  weak alone, full weight with core evidence
#   contact  weighs only with core evidence (crackdown news quotes numbers too)
#   context  benign context, negative weight
EvidenceKind = Literal["core", "support", "contact", "context"]


@dataclass(frozen=True, slots=True)
class ImageText:
    """Text read from one image of the page: a decoded QR payload or OCR output."""

    src: str
    kind: Literal["qr", "ocr"]
    text: str


@dataclass(frozen=True, slots=True)
class PageInput:
    text: str
    url: str | None = None
    links: tuple[str, ...] = ()
    image_texts: tuple[ImageText, ...] = ()


@dataclass(frozen=True, slots=True)
class SignalReason:
    """One piece of evidence. ``start``/``end`` index ``PageInput.text``; -1/-1 when it is not in the text
    (a link, an image, the URL), and then ``text`` says what it is (the link, the QR payload, the host)."""

    rule_id: str
    text: str
    start: int
    end: int
    weight: float
    kind: EvidenceKind
    categories: tuple[str, ...] = ()  # categories this evidence votes for; () for context


@dataclass(frozen=True, slots=True)
class SignalOutput:
    reasons: tuple[SignalReason, ...] = ()
    contacts: dict[str, list[str]] = field(default_factory=dict)  # kind -> normalised values
    contact_sources: dict[str, str] = field(default_factory=dict)  # "kind:value" -> text | qr | ocr
    identifiers: tuple[Identifier, ...] = ()


class Signal(Protocol):
    name: str

    def evaluate(self, page: PageInput, normalised: NormalisedText) -> SignalOutput: ...
