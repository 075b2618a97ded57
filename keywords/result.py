"""The scorer's output values: `ScoreResult` and the `Reason` records that explain every point of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CATEGORIES", "Identifier", "Reason", "ScoreResult"]

CATEGORIES: tuple[str, ...] = ("scalper_service", "medical_tout", "illegal_medical_ad")


@dataclass(frozen=True, slots=True)
class Reason:
    """One piece of evidence and the weight it added to (or, if negative, took from) the raw score.

    ``text`` is ``original[start:end]`` of the scored text. Reasons not tied to a position (the URL
    allow-list) have ``start == end == -1`` and carry the URL's host as ``text``.
    """

    rule_id: str
    text: str
    start: int
    end: int
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "weight": self.weight,
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """Score of one page: 0..100, hit flag, leading category, reasons, contacts and lexicon version."""

    score: int
    hit: bool
    category: str | None
    reasons: tuple[Reason, ...]
    contacts: dict[str, list[str]]
    lexicon_version: str
    # where each contact was found, "kind:value" -> "text" | "qr" | "ocr" (absent means "text")
    contact_sources: dict[str, str] = field(default_factory=dict)
    identifiers: tuple[Identifier, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return {
            "score": self.score,
            "hit": self.hit,
            "category": self.category,
            "reasons": [r.to_dict() for r in self.reasons],
            "contacts": {kind: list(values) for kind, values in self.contacts.items()},
            "contact_sources": dict(self.contact_sources),
            "identifiers": [i.to_dict() for i in self.identifiers],
            "lexicon_version": self.lexicon_version,
        }


@dataclass(frozen=True, slots=True)
class Identifier:
    """A registration number found on the page, normalised; ``valid`` is the outcome of its format,
    check-digit or certificate-list check (None when it cannot be checked)."""

    kind: str  # icp | icp_licence | police_filing | ad_cert | uscc | drug_info
    value: str
    valid: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "valid": self.valid}
