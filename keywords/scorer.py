"""Page scoring: turns matched terms, patterns, contacts and the URL into a 0..100 score with reasons.

Formula (every point is carried by a `Reason`; ``raw`` is the plain sum of the reasons' weights):

1. Evidence: lexicon terms (`keywords.matcher`), regex patterns (`keywords.patterns`), contacts
   (`keywords.contacts`, rule ids ``contact.mobile|wechat|qq``) and the URL allow-list (``domain.official``).
2. Repeats: per rule id, negated or not, the first occurrence gets the rule's weight, the next
   `MAX_OCCURRENCES` - 1 get `REPEAT_FACTOR` of it each, later occurrences are not reported.
3. Negation (which terms count as negated: `keywords.matcher`): a negated term is reported as
   ``negated.<rule id>``. A negated *core* term is a disclaimer ("不代挂号、不转卖号源、不承诺加号" on a
   legitimate 陪诊 page, "禁止发布代挂号广告" in a forum's rules): sellers do not disclaim what they sell, so it
   weighs minus `DISCLAIMER_FACTOR` times the weight from rule 2 and counts as benign context. A negated
   support term ("免收服务费") weighs 0.
4. Quotation: on a page whose benign context (``context.*`` and disclaimers) weighs `QUOTED_CONTEXT` or less,
   positive evidence inside quotation or title marks (news and notices quoting scalpers) is reported as
   ``quoted.<rule id>`` and multiplied by `QUOTED_FACTOR`.
5. Co-occurrence: the *core* groups (service, guarantee, tout, cure, ad_claims) are evidence on their own; the
   page "has core evidence" when their positive (not negated) weights add up to at least `CORE_MIN`. The
   *support* groups (fees, identity, disguise, cta) are multiplied by `SUPPORT_ALONE_FACTOR` without core
   evidence. Evidence flagged ``with_core`` (prices) and contacts weigh nothing without core evidence (crackdown
   news quotes phone numbers too) and are then listed with weight 0. Contacts weigh `CONTACT_WEIGHTS`; a WeChat
   contact that is the same number as a listed mobile adds nothing.
6. Benign context (``context.*``: crackdown news, notices, hospital rules, document numbers) has negative
   weights, and an official domain adds `OFFICIAL_DOMAIN_WEIGHT`.
7. ``score = round(100 * r / (r + HALF_SATURATION))`` with ``r = max(0, raw)``: raw 40 scores 50, raw 120
   scores 75; the curve saturates, so no page reaches 100 by piling up keywords.
8. ``hit = score >= hit_threshold``. ``category``: every positive reason adds its weight to the categories its
   group votes for (`keywords.lexicon.CATEGORIES_OF_GROUP`: scalper groups, ``tout`` for medical_tout,
   ``ad_claims`` for illegal_medical_ad, and ``cure`` -- miracle-cure promises touts and illegal ads share --
   for both); the category with the largest total wins (ties: scalper_service, medical_tout, illegal_medical_ad). So
   between medical_tout and illegal_medical_ad the person-based funnel (fake assistants, free consultations)
   weighs against the regulated ad copy (cure rates, superlatives, testimonials). None when the score is 0 (no
   net positive evidence).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from keywords.contacts import contacts_by_kind, extract_contacts
from keywords.domains import OfficialDomains
from keywords.lexicon import CATEGORIES_OF_GROUP, CONTEXT_GROUP, Lexicon, load_lexicon
from keywords.matcher import Matcher
from keywords.normalisation import normalise
from keywords.patterns import find_patterns
from keywords.quotes import in_spans, quoted_spans
from keywords.result import CATEGORIES, Reason, ScoreResult
from keywords.tokenizer import TermTokenizer

if TYPE_CHECKING:
    from keywords.contacts import Contact
    from keywords.normalisation import NormalisedText

__all__ = ["Scorer", "load_scorer"]

HALF_SATURATION = 40.0
REPEAT_FACTOR = 0.1
MAX_OCCURRENCES = 4
CORE_GROUPS = frozenset({"service", "guarantee", "tout", "cure", "ad_claims"})
SUPPORT_GROUPS = frozenset({"fees", "identity", "disguise", "cta"})
CORE_MIN = 10.0
SUPPORT_ALONE_FACTOR = 0.3
CONTACT_WEIGHTS: dict[str, float] = {"mobile": 12.0, "wechat": 12.0, "qq": 10.0}
OFFICIAL_DOMAIN_WEIGHT = -60.0
QUOTED_FACTOR = 0.5
QUOTED_CONTEXT = -20.0
DISCLAIMER_FACTOR = 0.4

_CONTACT_GROUP = "contact"
_NEGATED_PREFIX = "negated."
_QUOTED_PREFIX = "quoted."


@dataclass(frozen=True, slots=True)
class _Evidence:
    rule_id: str
    group: str
    weight: float
    start: int
    end: int
    with_core: bool = False
    negated: bool = False


class Scorer:
    """Scores page text. Build it once with `load_scorer`; `score` is pure and thread-compatible."""

    def __init__(self, lexicon: Lexicon, *, hit_threshold: int = 50) -> None:
        if not 0 <= hit_threshold <= 100:
            raise ValueError(f"hit_threshold must be within 0..100, got {hit_threshold}")
        self.lexicon = lexicon
        self.hit_threshold = hit_threshold
        self._tokenizer = TermTokenizer.for_lexicon(lexicon)
        self._matcher = Matcher(lexicon, self._tokenizer)
        self._domains = OfficialDomains(lexicon.official_domains)

    @property
    def lexicon_version(self) -> str:
        return self.lexicon.version

    def warm_up(self) -> None:
        """Load jieba's dictionary now rather than on the first page that needs it."""
        self._tokenizer.initialize()

    def score(self, text: str, *, url: str | None = None) -> ScoreResult:
        """Score the visible text of one page (first line usually the title); ``url`` enables the allow-list."""
        normalised = normalise(text)
        contacts = extract_contacts(normalised)
        reasons = _weigh(text, self._evidence(normalised, contacts))
        if url:
            official = self._domains.match(url)
            if official is not None:
                reasons.append(Reason("domain.official", official.host, -1, -1, OFFICIAL_DOMAIN_WEIGHT))
        reasons.sort(key=lambda r: (r.start, r.end, r.rule_id))

        raw = max(0.0, sum(r.weight for r in reasons))
        score = int(100.0 * raw / (raw + HALF_SATURATION) + 0.5)
        return ScoreResult(
            score=score,
            hit=score >= self.hit_threshold,
            category=_category(reasons) if score > 0 else None,
            reasons=tuple(reasons),
            contacts=contacts_by_kind(contacts),
            lexicon_version=self.lexicon.version,
        )

    def _evidence(self, normalised: NormalisedText, contacts: list[Contact]) -> list[_Evidence]:
        """Every piece of evidence with its base weight, before repeats and co-occurrence."""
        evidence: list[_Evidence] = []
        for match in self._matcher.find(normalised):
            term = match.term
            evidence.append(
                _Evidence(term.rule_id, term.group, term.weight, match.start, match.end, term.with_core, match.negated)
            )
        for found in find_patterns(self.lexicon.patterns, normalised):
            rule = found.rule
            evidence.append(_Evidence(rule.rule_id, rule.group, rule.weight, found.start, found.end, rule.with_core))
        mobiles = {c.value for c in contacts if c.kind == "mobile"}
        for contact in contacts:
            duplicate = contact.kind == "wechat" and contact.value in mobiles
            weight = 0.0 if duplicate else CONTACT_WEIGHTS[contact.kind]
            rule_id = f"{_CONTACT_GROUP}.{contact.kind}"
            evidence.append(_Evidence(rule_id, _CONTACT_GROUP, weight, contact.start, contact.end, True))
        return evidence


def _weigh(text: str, evidence: list[_Evidence]) -> list[Reason]:
    """Apply the repeat, negation, quotation and co-occurrence rules of the module docstring."""
    by_rule: dict[str, list[_Evidence]] = defaultdict(list)
    for item in sorted(evidence, key=lambda e: (e.start, e.end)):
        by_rule[item.rule_id].append(item)

    # (rule id as reported, evidence, weight so far)
    kept: list[tuple[str, _Evidence, float]] = []
    for rule_id, items in by_rule.items():
        for index, item in enumerate(items[:MAX_OCCURRENCES]):
            weight = item.weight if index == 0 else item.weight * REPEAT_FACTOR
            if item.negated:
                disclaimer = item.group in CORE_GROUPS
                kept.append((_NEGATED_PREFIX + rule_id, item, -DISCLAIMER_FACTOR * weight if disclaimer else 0.0))
            else:
                kept.append((rule_id, item, weight))

    # Benign context: context terms and patterns, and disclaimers (the only negative negated evidence).
    context = sum(w for _, item, w in kept if item.group == CONTEXT_GROUP or item.negated)
    if context <= QUOTED_CONTEXT:
        quotes = quoted_spans(text)
        kept = [
            (_QUOTED_PREFIX + rule_id, item, weight * QUOTED_FACTOR)
            if weight > 0 and in_spans(quotes, item.start, item.end)
            else (rule_id, item, weight)
            for rule_id, item, weight in kept
        ]

    has_core = sum(w for _, item, w in kept if item.group in CORE_GROUPS and not item.negated) >= CORE_MIN
    reasons: list[Reason] = []
    for rule_id, item, weight in kept:
        if not has_core:
            if item.with_core:  # prices and every contact
                weight = 0.0
            elif item.group in SUPPORT_GROUPS:
                weight *= SUPPORT_ALONE_FACTOR
        weight = round(weight, 2) + 0.0  # "+ 0.0" turns -0.0 into 0.0
        reasons.append(Reason(rule_id, text[item.start : item.end], item.start, item.end, weight))
    return reasons


def _category(reasons: list[Reason]) -> str | None:
    totals: dict[str, float] = defaultdict(float)
    for reason in reasons:
        if reason.weight <= 0:
            continue
        rule_id = reason.rule_id.removeprefix(_QUOTED_PREFIX)
        for category in CATEGORIES_OF_GROUP.get(rule_id.split(".", 1)[0], ()):
            totals[category] += reason.weight
    best = max(CATEGORIES, key=lambda c: (totals[c], -CATEGORIES.index(c)))
    return best if totals[best] > 0 else None


def load_scorer(lexicon_dir: Path | None = None, hit_threshold: int = 50) -> Scorer:
    """Load the lexicon, build the automaton and initialise the jieba tokenizer; do this once per process."""
    scorer = Scorer(load_lexicon(lexicon_dir), hit_threshold=hit_threshold)
    scorer.warm_up()
    return scorer
