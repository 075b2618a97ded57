"""Keyword scoring of page text for appointment scalpers (号贩子), online medical touts and illegal medical ads.

Public surface: build a `Scorer` once with `load_scorer`, then call ``scorer.score(text, url=...)`` per page.
The package is pure (no Scrapy, no database, no network).
"""

from __future__ import annotations

from keywords.lexicon import lexicon_version
from keywords.normalisation import NormalisedText, normalise
from keywords.result import Reason, ScoreResult
from keywords.scorer import Scorer, load_scorer

__all__ = [
    "NormalisedText",
    "Reason",
    "ScoreResult",
    "Scorer",
    "lexicon_version",
    "load_scorer",
    "normalise",
]
