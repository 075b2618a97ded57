"""Page scoring: turns matched terms, patterns, contacts, page structure, the URL and the evidence of pluggable
signals into a 0..100 score with reasons.

Formula (every point is carried by a `Reason`; ``raw`` is the plain sum of the reasons' weights):

1. Evidence: lexicon terms in their pinyin, initials and character spellings (`keywords.matcher`), regex
   patterns (`keywords.patterns`), contacts in the text and in the page's image texts (`keywords.contacts`,
   rule ids ``contact.<kind>``; image contacts have no position), the URL allow-list (``domain.official``) and
   every `keywords.signals.SignalReason` of the configured signals. Each piece of evidence has a *kind*:
   ``core`` (service, guarantee, tout, cure, ad_claims), ``support`` (fees, identity, disguise, cta),
   ``contact`` (contacts, and evidence flagged ``with_core`` such as prices) or ``context`` (benign context,
   negative). A signal's reason carries its kind and the categories it votes for; lexicon evidence gets them
   from its group.
2. Repeats: per rule id, negated or not, the first occurrence gets the rule's weight, the next
   `MAX_OCCURRENCES` - 1 get `REPEAT_FACTOR` of it each, later occurrences are not reported.
3. Negation (which terms count as negated: `keywords.matcher`): a negated term is reported as
   ``negated.<rule id>``. A negated *core* term is a disclaimer ("不代挂号、不转卖号源、不承诺加号" on a
   legitimate 陪诊 page, "禁止发布代挂号广告" in a forum's rules): sellers do not disclaim what they sell, so it
   weighs minus `DISCLAIMER_FACTOR` times the weight from rule 2 and counts as benign context. A negated
   support term ("免收服务费") weighs 0.
4. Quotation: positive evidence inside quotation or title marks (news and notices quoting scalpers) is reported
   as ``quoted.<rule id>`` and multiplied by `QUOTED_FACTOR` on a page whose benign context (context evidence
   and disclaimers) weighs `QUOTED_CONTEXT` or less, and on every page when the quotation is reported speech
   or a mention of the term alone (`keywords.quotes`).
5. Questions: positive evidence in a block that asks (it ends with a question mark or starts with 问：) is
   reported as ``asked.<rule id>`` and multiplied by `QUESTION_FACTOR`: "号满也能加号吗？" is a patient
   asking, the seller's answer on the next line is the offer.
6. Co-occurrence: the page "has core evidence" when its positive (not negated) core weights add up to at least
   `CORE_MIN`. Without it, support evidence is multiplied by `SUPPORT_ALONE_FACTOR` and contact evidence
   weighs nothing (crackdown news quotes phone numbers too; it is then listed with weight 0). Contacts weigh
   `CONTACT_WEIGHTS` (kinds a signal adds weigh what the signal says); a WeChat contact that is the same number
   as a listed mobile, and a contact read from an image that the text already shows, add nothing.
   ``ScoreResult.contacts`` always has a key for every kind the scorer can report: mobile, wechat and qq, and
   with signals configured also landline and tollfree (`SIGNAL_CONTACT_KINDS`) and any kind a signal declares
   in a ``contact_kinds`` attribute.
7. Blocks: the page's text is split into blocks, one per line (the extractor writes one line per block
   element). A combination that means business -- an anchor and a partner in the same block or in adjacent
   blocks -- adds one ``combo.<name>`` reason per page (`COMBOS`: a service term with a contact, a price, a
   guarantee or a call to action; a guarantee with a contact or a call to action; a disguise label such as 陪诊
   with a slot or doctor claim (a guarantee); a tout cue with a contact or a call to action; an ad claim or cure
   promise with a contact, a call to action or a price), weighing `COMBOS`'s weight, placed on the anchor and
   voting for the anchor's categories. Quoted, asked or negated evidence anchors nothing, neither does a
   question's block (rule 5), and the same terms scattered over a long page earn no combination.
8. Benign context (context evidence: crackdown news, notices, hospital rules, document numbers) has negative
   weights, and an official domain adds `OFFICIAL_DOMAIN_WEIGHT`.
9. Structure: a page that shows at least ``min_cues`` distinct cues of a genre (``structure.tsv``: news
   bylines and datelines, notice addressees and closing formulas, encyclopedia headings, fiction chapters, a
   hospital's own voice and footer) has that structure. The detected genre with the largest ``factor`` adds
   ``structure.<kind>`` weighing minus ``factor`` times the sum of the positive weights from rules 1-8; other
   detected genres are listed with weight 0. Each reason sits on the genre's first cue. A kind declared
   ``absent`` is detected when the page shows fewer than ``min_cues`` of its cues: ``structure.non_medical``
   (no medical word anywhere: ticket touts, game-item "代抢") has no position and says so in its text.
   Structure is looked for only on pages whose positive evidence alone reaches the raw score of a hit (there
   is nothing to discount on the others).
10. ``score = round(100 * r / (r + HALF_SATURATION))`` with ``r = max(0, raw)``: raw 32 scores 50, raw 96
   scores 75; the curve saturates, so no page reaches 100 by piling up keywords, and no single lexicon term
   (the heaviest weighs 30) is a hit on its own.
11. ``hit = score >= hit_threshold``. ``category``: every positive reason adds its weight to the categories it
   votes for (lexicon groups: `keywords.lexicon.CATEGORIES_OF_GROUP`, where ``cure`` -- miracle-cure promises
   touts and illegal ads share -- votes for both; signals: their own; combinations: their anchor's); the
   category with the largest total wins (ties: scalper_service, illegal_medical_ad, medical_tout: cure promises
   without a tout's funnel are ad copy). None when the score is 0 (no net positive evidence).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from keywords._fold import char_positions
from keywords.contacts import CONTACT_KINDS, extract_contacts
from keywords.domains import OfficialDomains
from keywords.lexicon import CATEGORIES_OF_GROUP, CONTEXT_GROUP, Lexicon, StructureKind, load_lexicon
from keywords.matcher import Matcher
from keywords.normalisation import normalise
from keywords.patterns import find_patterns
from keywords.prefilter import RegexGate
from keywords.quotes import quoted_spans, reported_or_mentions
from keywords.result import CATEGORIES, Reason, ScoreResult
from keywords.signals import ImageText, PageInput
from keywords.tokenizer import TermTokenizer

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from keywords.contacts import Contact
    from keywords.lexicon import PatternRule, StructureCue
    from keywords.matcher import Scan, TermMatch
    from keywords.normalisation import NormalisedText
    from keywords.result import Identifier
    from keywords.signals import Signal

__all__ = ["Scorer", "load_scorer"]

HALF_SATURATION = 32.0
REPEAT_FACTOR = 0.1
MAX_OCCURRENCES = 4
CORE_GROUPS = frozenset({"service", "guarantee", "tout", "cure", "ad_claims"})
SUPPORT_GROUPS = frozenset({"fees", "identity", "disguise", "cta"})
CORE_MIN = 10.0
SUPPORT_ALONE_FACTOR = 0.3
CONTACT_WEIGHTS: dict[str, float] = {"mobile": 12.0, "wechat": 12.0, "qq": 10.0}
OFFICIAL_DOMAIN_WEIGHT = -60.0
#: Contact kinds of the identifier signal (`keywords.identifiers`): landlines and 400/800 numbers.
SIGNAL_CONTACT_KINDS: tuple[str, ...] = ("landline", "tollfree")
QUOTED_FACTOR = 0.5
QUOTED_CONTEXT = -20.0
DISCLAIMER_FACTOR = 0.4
QUESTION_FACTOR = 0.5


@dataclass(frozen=True, slots=True)
class Combo:
    """Rule 7: ``anchor`` evidence with ``partner`` evidence at most one block apart adds ``weight`` once.
    Anchors and partners are lexicon groups or the rule ids ``contact.*`` and ``fees.price``."""

    name: str
    anchors: frozenset[str]
    partners: frozenset[str]
    weight: float


_CONTACT_PARTNER = "contact"
COMBOS: tuple[Combo, ...] = (
    Combo("service_contact", frozenset({"service"}), frozenset({_CONTACT_PARTNER}), 10.0),
    Combo("service_price", frozenset({"service"}), frozenset({"fees"}), 8.0),
    Combo("service_guarantee", frozenset({"service"}), frozenset({"guarantee"}), 8.0),
    Combo("disguise_slot", frozenset({"disguise"}), frozenset({"guarantee"}), 12.0),
    Combo("service_cta", frozenset({"service"}), frozenset({"cta"}), 8.0),
    Combo("guarantee_cta", frozenset({"guarantee"}), frozenset({_CONTACT_PARTNER, "cta"}), 8.0),
    Combo("tout_contact", frozenset({"tout"}), frozenset({_CONTACT_PARTNER, "cta"}), 8.0),
    Combo("ad_contact", frozenset({"ad_claims", "cure"}), frozenset({_CONTACT_PARTNER, "cta", "fees"}), 8.0),
)

# Category ties: cure promises vote for medical_tout and illegal_medical_ad alike, and without the person-based
# funnel of a tout (tout.tsv) they are ad copy.
_TIE_ORDER = ("scalper_service", "illegal_medical_ad", "medical_tout")
_CONTACT_GROUP = "contact"
_NEGATED_PREFIX = "negated."
_QUOTED_PREFIX = "quoted."
_ASKED_PREFIX = "asked."
_TEXT_SOURCE = "text"
# A block that asks ("……也能加号吗？", "问：……") offers nothing: its evidence is discounted and it anchors and
# partners no combination.
_QUESTION = re.compile(r"^\s*(?:问|q)\s*[:：]|[?？]\s*$", re.IGNORECASE | re.MULTILINE)
_QUESTION_LINE = re.compile(r"^[^\n]*[?？][ \t]*$|^[ \t]*(?:问|q)[ \t]*[:：][^\n]*$", re.IGNORECASE | re.MULTILINE)
_QUESTION_MARKS = "?？问"  # a page without any of them asks nothing (single-character searches: fast)
_START_END = attrgetter("start", "end")


def _categories_of(group: str) -> tuple[str, ...]:
    return CATEGORIES_OF_GROUP.get(group, ())


def _kind_of_group(group: str, with_core: bool) -> str:
    if group == CONTEXT_GROUP:
        return "context"
    if with_core or group == _CONTACT_GROUP:
        return "contact"
    if group in CORE_GROUPS:
        return "core"
    return "support"


@dataclass(slots=True)  # not frozen: never mutated, but a frozen dataclass is slow to build (one per match)
class _Evidence:
    rule_id: str
    group: str  # lexicon group, "contact", or "signal"
    kind: str  # core | support | contact | context
    weight: float
    start: int
    end: int
    text: str = ""  # what it is, for evidence outside the text (start == -1)
    negated: bool = False
    categories: tuple[str, ...] = ()


@dataclass(slots=True)
class _Kept:
    rule_id: str  # as reported
    item: _Evidence
    weight: float


class Scorer:
    """Scores page text. Build it once with `load_scorer`; `score` is pure and thread-compatible."""

    def __init__(self, lexicon: Lexicon, *, hit_threshold: int = 50, signals: Sequence[Signal] = ()) -> None:
        if not 0 <= hit_threshold <= 100:
            raise ValueError(f"hit_threshold must be within 0..100, got {hit_threshold}")
        self.lexicon = lexicon
        self.hit_threshold = hit_threshold
        self.signals: tuple[Signal, ...] = tuple(signals)
        # Every kind this scorer can report is always a key of ScoreResult.contacts: its own, and with signals
        # the phone kinds of the identifier signal plus any a signal declares in a ``contact_kinds`` attribute.
        kinds = list(CONTACT_KINDS)
        if self.signals:
            kinds += SIGNAL_CONTACT_KINDS
            kinds += [k for signal in self.signals for k in getattr(signal, "contact_kinds", ())]
        self._contact_kinds = tuple(dict.fromkeys(kinds))
        self._tokenizer = TermTokenizer.for_lexicon(lexicon)
        self._matcher = Matcher(lexicon, self._tokenizer)
        self._domains = OfficialDomains(lexicon.official_domains)
        self._kinds = {k.kind: k for k in lexicon.structure_kinds}
        # the raw score a hit needs (rule 10 solved for r)
        self._hit_raw = HALF_SATURATION * hit_threshold / (100 - hit_threshold) if hit_threshold < 100 else math.inf
        self._regex_cues = tuple(c for c in lexicon.structure_cues if c.regex is not None)
        # One pass over a page's digits view tells which pattern rules and regex cues may match it at all.
        self._gate = RegexGate([r.regex for r in lexicon.patterns] + [c.regex for c in self._regex_cues])  # type: ignore[misc]
        # A term containing a cue of an "absent" kind shows that cue too, whatever spelling matched it
        # ("daiguahao" is 代挂号, which contains the medical word 挂号).
        absent_cues = [c for c in lexicon.structure_cues if c.key and self._kinds[c.kind].absent]
        self._implied_cues = {
            t.key: tuple(c for c in absent_cues if c.key in t.key) for t in lexicon.terms if t.pinyin or t.initials
        }
        # What the evidence of each term and pattern rule says, worked out once (by object identity: a match
        # carries its lexicon entry): rule id, group, kind, weight, categories.
        self._term_info = {
            id(t): (t.rule_id, t.group, _kind_of_group(t.group, t.with_core), t.weight, _categories_of(t.group))
            for t in lexicon.terms
        }
        self._pattern_info = {
            id(r): (r.rule_id, r.group, _kind_of_group(r.group, r.with_core), r.weight, _categories_of(r.group))
            for r in lexicon.patterns
        }

    @property
    def lexicon_version(self) -> str:
        return self.lexicon.version

    def warm_up(self) -> None:
        """Load jieba's dictionary and build the normaliser's tables now rather than on the first page."""
        self._tokenizer.initialize()
        self._matcher.scan(normalise("预热 warm-up 代掛號 dai gua hao ①"))

    def score(
        self,
        text: str,
        *,
        url: str | None = None,
        links: Iterable[str] = (),
        image_texts: Iterable[ImageText] = (),
    ) -> ScoreResult:
        """Score the visible text of one page (first line usually the title). ``url`` enables the allow-list;
        ``links`` (outgoing links) and ``image_texts`` (OCR text and QR payloads of its images) are handed to
        the signals, and image texts are searched for contacts too."""
        page = PageInput(text=text, url=url, links=tuple(links), image_texts=tuple(image_texts))
        normalised = normalise(text)
        scan = self._matcher.scan(normalised)
        contacts = extract_contacts(normalised)
        may_match = self._gate.may_match(normalised.digits)
        patterns = [r for r, ok in zip(self.lexicon.patterns, may_match, strict=False) if ok]
        regex_cues = [c for c, ok in zip(self._regex_cues, may_match[len(self.lexicon.patterns) :], strict=True) if ok]
        evidence = self._evidence(normalised, scan.terms, contacts, patterns)

        values: dict[str, set[str]] = {kind: set() for kind in self._contact_kinds}
        for contact in contacts:
            values[contact.kind].add(contact.value)
        sources: dict[str, str] = {f"{c.kind}:{c.value}": _TEXT_SOURCE for c in contacts}
        evidence.extend(self._image_contacts(page.image_texts, values, sources))
        identifiers: dict[tuple[str, str], Identifier] = {}
        for signal in self.signals:
            output = signal.evaluate(page, normalised)
            for reason in output.reasons:
                evidence.append(
                    _Evidence(
                        reason.rule_id,
                        "signal",
                        reason.kind,
                        reason.weight,
                        reason.start,
                        reason.end,
                        text=reason.text,
                        categories=tuple(reason.categories),
                    )
                )
            for kind, found in output.contacts.items():
                values.setdefault(kind, set()).update(found)
            for key, source in output.contact_sources.items():
                sources.setdefault(key, source)
            for identifier in output.identifiers:
                identifiers.setdefault((identifier.kind, identifier.value), identifier)

        if url:
            official = self._domains.match(url)
            if official is not None:
                evidence.append(
                    _Evidence("domain.official", "domain", "context", OFFICIAL_DOMAIN_WEIGHT, -1, -1, official.host)
                )

        kept = _weigh(text, evidence)
        kept.extend(_combos(text, kept))
        kept.extend(self._structure(normalised, scan, kept, regex_cues))
        kept.sort(key=_reason_order)  # stable: equal keys keep the order of the rules above
        reasons = [
            Reason(
                k.rule_id,
                text[k.item.start : k.item.end] if k.item.start >= 0 else k.item.text,
                k.item.start,
                k.item.end,
                round(k.weight, 2) + 0.0,  # "+ 0.0" turns -0.0 into 0.0
            )
            for k in kept
        ]

        raw = max(0.0, sum(r.weight for r in reasons))
        score = int(100.0 * raw / (raw + HALF_SATURATION) + 0.5)
        contact_values = {kind: sorted(found) for kind, found in values.items()}
        return ScoreResult(
            score=score,
            hit=score >= self.hit_threshold,
            category=_category(kept, reasons) if score > 0 else None,
            reasons=tuple(reasons),
            contacts=contact_values,
            lexicon_version=self.lexicon.version,
            contact_sources={k: v for k, v in sources.items() if v != _TEXT_SOURCE},
            identifiers=tuple(identifiers.values()),
        )

    def _evidence(
        self,
        normalised: NormalisedText,
        terms: list[TermMatch],
        contacts: list[Contact],
        patterns: Sequence[PatternRule],
    ) -> list[_Evidence]:
        """Every piece of lexicon and contact evidence in the text, with its base weight (``patterns``: the
        pattern rules that may match it)."""
        term_info = self._term_info
        evidence: list[_Evidence] = []
        for match in terms:
            rule_id, group, kind, weight, categories = term_info[id(match.term)]
            evidence.append(
                _Evidence(rule_id, group, kind, weight, match.start, match.end, "", match.negated, categories)
            )
        pattern_info = self._pattern_info
        for found in find_patterns(patterns, normalised):
            rule_id, group, kind, weight, categories = pattern_info[id(found.rule)]
            evidence.append(_Evidence(rule_id, group, kind, weight, found.start, found.end, "", False, categories))
        mobiles = {c.value for c in contacts if c.kind == "mobile"}
        for contact in contacts:
            duplicate = contact.kind == "wechat" and contact.value in mobiles
            weight = 0.0 if duplicate else CONTACT_WEIGHTS[contact.kind]
            evidence.append(
                _Evidence(
                    f"{_CONTACT_GROUP}.{contact.kind}", _CONTACT_GROUP, "contact", weight, contact.start, contact.end
                )
            )
        return evidence

    @staticmethod
    def _image_contacts(
        images: tuple[ImageText, ...], values: dict[str, set[str]], sources: dict[str, str]
    ) -> list[_Evidence]:
        """Contacts in OCR text and QR payloads: new ones are evidence without a position, sourced qr/ocr."""
        evidence: list[_Evidence] = []
        for image in images:
            for contact in extract_contacts(normalise(image.text)):
                key = f"{contact.kind}:{contact.value}"
                if key in sources:
                    continue
                sources[key] = image.kind
                duplicate = contact.kind == "wechat" and contact.value in values["mobile"]
                values[contact.kind].add(contact.value)
                weight = 0.0 if duplicate else CONTACT_WEIGHTS[contact.kind]
                shown = image.text[contact.start : contact.end]
                evidence.append(
                    _Evidence(f"{_CONTACT_GROUP}.{contact.kind}", _CONTACT_GROUP, "contact", weight, -1, -1, shown)
                )
        return evidence

    def _structure(
        self, normalised: NormalisedText, scan: Scan, kept: list[_Kept], regex_cues: Sequence[StructureCue]
    ) -> list[_Kept]:
        """Rule 9: genre reasons, on pages whose positive evidence could make a hit (``regex_cues``: the regex
        cues that may match the page)."""
        positive = sum(k.weight for k in kept if k.weight > 0)
        if positive < self._hit_raw or not self._kinds:
            return []  # not even all of it would make a hit: nothing to discount
        first: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)  # kind -> cue text -> first span
        for match in scan.cues:
            first[match.cue.kind].setdefault(match.cue.text, (match.start, match.end))
        absent = self._matcher.first_absent_cue(normalised)
        if absent is not None:
            first[absent.cue.kind].setdefault(absent.cue.text, (absent.start, absent.end))
        for term_match in scan.terms:
            for cue in self._implied_cues.get(term_match.term.key, ()):
                first[cue.kind].setdefault(cue.text, (term_match.start, term_match.end))
        digits = normalised.digits
        for cue in regex_cues:
            assert cue.regex is not None
            found = cue.regex.search(digits)
            if found and found.end() > found.start():
                first[cue.kind].setdefault(cue.text, normalised.digits_span(found.start(), found.end()))
        detected: list[tuple[StructureKind, tuple[int, int]]] = []
        for structure in self._kinds.values():
            spans = first.get(structure.kind, {})
            if structure.absent and len(spans) < structure.min_cues:
                detected.append((structure, (-1, -1)))
            elif not structure.absent and len(spans) >= structure.min_cues:
                detected.append((structure, min(spans.values())))
        if not detected:
            return []
        detected.sort(key=lambda d: -d[0].factor)
        out: list[_Kept] = []
        for number, (structure, (start, end)) in enumerate(detected):
            weight = -structure.factor * positive if number == 0 else 0.0
            rule_id = f"structure.{structure.kind}"
            shown = "" if start >= 0 else f"no {structure.kind.removeprefix('non_')} cue"
            out.append(_Kept(rule_id, _Evidence(rule_id, "structure", "context", weight, start, end, shown), weight))
        return out


def _line_starts(text: str) -> list[int]:
    """Where each line (block) of ``text`` starts."""
    return [0, *[position + 1 for position in char_positions(text, "\n")]]


def _reason_order(k: _Kept) -> tuple[int, int, str]:
    """Reasons are listed by position, then end, then rule id."""
    return k.item.start, k.item.end, k.rule_id


def _weigh(text: str, evidence: list[_Evidence]) -> list[_Kept]:
    """Apply the repeat, negation, quotation, question and co-occurrence rules (2-6, 8) of the module docstring."""
    by_rule: dict[str, list[_Evidence]] = defaultdict(list)
    for item in sorted(evidence, key=_START_END):
        by_rule[item.rule_id].append(item)

    kept: list[_Kept] = []
    for rule_id, items in by_rule.items():
        for index, item in enumerate(items[:MAX_OCCURRENCES]):
            weight = item.weight if index == 0 else item.weight * REPEAT_FACTOR
            if item.negated:
                disclaimer = item.kind == "core"
                kept.append(_Kept(_NEGATED_PREFIX + rule_id, item, -DISCLAIMER_FACTOR * weight if disclaimer else 0.0))
            else:
                kept.append(_Kept(rule_id, item, weight))

    # Benign context: context evidence and disclaimers (the only negative negated evidence).
    context = sum(k.weight for k in kept if k.item.kind == "context" or k.item.negated)
    positive = [k for k in kept if k.weight > 0 and k.item.start >= 0]
    quotes = quoted_spans(text) if positive else []  # (quotations are found from their opening marks)
    if quotes:
        reported = {(s, e) for s, e, said in reported_or_mentions(text, quotes) if said}
        for k in positive:
            index = bisect_right(quotes, (k.item.start, math.inf)) - 1
            if index < 0 or k.item.end > quotes[index][1]:
                continue
            q_start, q_end = quotes[index]
            mention = (k.item.start, k.item.end) == (q_start + 1, q_end - 1)
            if context <= QUOTED_CONTEXT or mention or (q_start, q_end) in reported:
                k.rule_id = _QUOTED_PREFIX + k.rule_id
                k.weight *= QUOTED_FACTOR

    if positive and any(mark in text for mark in _QUESTION_MARKS):
        # Question lines are whole lines: only the lines that hold positive evidence are tested (once each).
        line_starts = _line_starts(text)
        asked: dict[int, int] = {}  # line number -> its end when it is a question line, else -1
        for k in positive:
            line = bisect_right(line_starts, k.item.start) - 1
            line_end = asked.get(line)
            if line_end is None:
                end = line_starts[line + 1] - 1 if line + 1 < len(line_starts) else len(text)
                found = _QUESTION_LINE.match(text, line_starts[line], end)
                line_end = asked[line] = end if found is not None else -1
            if k.item.end <= line_end:
                k.rule_id = _ASKED_PREFIX + k.rule_id
                k.weight *= QUESTION_FACTOR

    has_core = sum(k.weight for k in kept if k.item.kind == "core" and not k.item.negated) >= CORE_MIN
    if not has_core:
        for k in kept:
            if k.item.kind == "contact":
                k.weight = 0.0
            elif k.item.kind == "support":
                k.weight *= SUPPORT_ALONE_FACTOR
    return kept


def _combos(text: str, kept: list[_Kept]) -> list[_Kept]:
    """Rule 7: one ``combo.<name>`` reason per combination found within one block of its anchor."""
    usable = [
        k
        for k in kept
        if k.item.start >= 0
        and k.weight > 0
        and not k.item.negated
        and not k.rule_id.startswith((_QUOTED_PREFIX, _ASKED_PREFIX))
        and k.item.kind != "context"
    ]
    if not usable:
        return []
    line_starts = _line_starts(text)

    def block(position: int) -> int:
        return bisect_right(line_starts, position) - 1

    questions: dict[int, bool] = {}  # block -> whether it asks (each block tested once)

    def is_question(b: int) -> bool:
        asks = questions.get(b)
        if asks is None:
            end = line_starts[b + 1] - 1 if b + 1 < len(line_starts) else len(text)
            asks = questions[b] = bool(_QUESTION.search(text, line_starts[b], end))
        return asks

    # role -> blocks where it occurs; roles are lexicon groups, "contact", and "fees" also for fees.price
    blocks: dict[str, set[int]] = defaultdict(set)
    anchors: dict[str, list[tuple[int, _Kept]]] = defaultdict(list)
    for k in usable:
        is_contact = k.item.kind == "contact" and k.item.group in {_CONTACT_GROUP, "signal"}
        role = _CONTACT_PARTNER if is_contact else k.item.group
        b = block(k.item.start)
        if is_question(b):
            continue
        blocks[role].add(b)
        anchors[role].append((b, k))
    out: list[_Kept] = []
    for combo in COMBOS:
        partner_blocks = set().union(*(blocks.get(p, set()) for p in combo.partners))
        if not partner_blocks:
            continue
        candidates = sorted(
            (pair for role in combo.anchors for pair in anchors.get(role, [])), key=lambda pair: pair[1].item.start
        )
        for b, anchor in candidates:
            if partner_blocks & {b - 1, b, b + 1}:
                rule_id = f"combo.{combo.name}"
                item = _Evidence(
                    rule_id,
                    "combo",
                    "core",
                    combo.weight,
                    anchor.item.start,
                    anchor.item.end,
                    categories=anchor.item.categories,
                )
                out.append(_Kept(rule_id, item, combo.weight))
                break
    return out


def _category(kept: list[_Kept], reasons: list[Reason]) -> str | None:
    totals: dict[str, float] = defaultdict(float)
    for k, reason in zip(kept, reasons, strict=True):
        if reason.weight <= 0:
            continue
        for category in k.item.categories:
            totals[category] += reason.weight
    best = max(CATEGORIES, key=lambda c: (totals[c], -_TIE_ORDER.index(c)))
    return best if totals[best] > 0 else None


def load_scorer(lexicon_dir: Path | None = None, hit_threshold: int = 50, *, signals: Sequence[Signal] = ()) -> Scorer:
    """Load the lexicon, build the automata and initialise the jieba tokenizer; do this once per process."""
    scorer = Scorer(load_lexicon(lexicon_dir), hit_threshold=hit_threshold, signals=signals)
    scorer.warm_up()
    return scorer
