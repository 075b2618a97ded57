"""The scoring lexicon: term lists, negators and the official-domain allow-list, loaded from data files.

Layout of a lexicon directory (the default is ``keywords/data/``):

* ``<group>.tsv`` for each group in `GROUPS`: one term per line, ``term<TAB>weight[<TAB>flags]``. ``#`` starts
  a comment line; blank lines are ignored. Weights are positive, except in ``context.tsv`` (benign context,
  e.g. crackdown news and official notices) where they must be negative. ``flags`` is a comma-separated list:
  ``boundary`` -- the term is short or ambiguous and counts only where it falls on jieba token boundaries (see
  `keywords.tokenizer`); ``with_core`` -- the evidence weighs nothing unless the page has core evidence
  (see `keywords.scorer`); ``pinyin`` -- the term also matches spelt in toneless pinyin, alone or mixed with
  characters ("daiguahao", "代guahao", "dai gua hao"; heteronyms expanded, see
  `keywords.normalisation.pinyin_forms`); ``initials`` -- the term also matches as its pinyin initials
  ("dgh", "zjh"), only where those letters are a whole ASCII token. Give ``initials`` only to terms whose
  initials are distinctive.
* ``patterns.tsv``: regular-expression rules run on the digits view,
  ``name<TAB>group<TAB>weight<TAB>regex[<TAB>flags]`` (document numbers, "+V", prices); rule id
  ``<group>.<name>``, same weight signs as the term files; the only flag is ``with_core``.
* ``negation.txt``: negators, one per line. A positive term directly preceded by one ("不代挂号", "拒绝倒号")
  is negated (see `keywords.matcher` and `keywords.scorer`).
* ``negation_verbs.txt``: verbs, one per line, that may stand between a negator and the term it negates
  ("不转卖号源", "禁止发布代挂号广告").
* ``domains.txt``: official domains and suffixes, one per line ("gov.cn", a booking platform, a hospital).
* ``structure.tsv``: cues of a page's genre, ``kind<TAB>cue``; a cue is a plain string (folded and matched like
  a term) or ``re:<regex>`` (run on the digits view). ``structure_kinds.tsv``:
  ``kind<TAB>factor<TAB>min_cues[<TAB>present|absent]`` -- a page showing at least ``min_cues`` distinct cues
  of a kind has that structure (news, notice, encyclopedia, fiction, official hospital page), which discounts
  its positive evidence by ``factor`` (see `keywords.scorer`); an ``absent`` kind is the structure of a page
  showing *fewer* than ``min_cues`` of its cues (``non_medical``: no medical word at all).
* Any other file is another module's data (hospital names, known-bad hosts): counted in the version, not
  parsed here; a name within two edits of a lexicon file's name is taken for a typo and is an error.

Every term, negator and negation verb is folded with the same skeleton folding as page text
(`keywords.normalisation`) before it is used. A malformed line, a term whose skeleton is empty, or two terms with
the same skeleton raise `LexiconError` (a `ValueError`) listing every problem as ``file:line: message``;
`check_lexicon` returns the same problems without raising (``touthunt lexicon check``); regexes whose unbounded
repeats nest (``(a+)+``) are rejected, so pattern matching stays linear. `lexicon_version` is a short sha256
over the data files' names and bytes, so every score can be traced to the exact lexicon that produced it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from keywords.normalisation import PINYIN_CONTEXT, fold_term, has_reading, initials_forms, pinyin_forms

__all__ = [
    "CATEGORIES_OF_GROUP",
    "CONTEXT_GROUP",
    "DEFAULT_LEXICON_DIR",
    "GROUPS",
    "Lexicon",
    "LexiconError",
    "PatternRule",
    "Problem",
    "StructureCue",
    "StructureKind",
    "Term",
    "check_domain",
    "check_lexicon",
    "lexicon_version",
    "load_lexicon",
    "make_term",
]

DEFAULT_LEXICON_DIR = Path(__file__).resolve().parent / "data"

CONTEXT_GROUP = "context"

#: Positive groups and the categories each one votes for; the context group votes for none. ``cure``
#: (miracle-cure promises) is the bait of touts and the content of illegal ads alike, so it votes for both.
CATEGORIES_OF_GROUP: dict[str, tuple[str, ...]] = {
    "service": ("scalper_service",),
    "guarantee": ("scalper_service",),
    "fees": ("scalper_service",),
    "identity": ("scalper_service",),
    "disguise": ("scalper_service",),
    "cta": ("scalper_service",),
    "tout": ("medical_tout",),
    "cure": ("medical_tout", "illegal_medical_ad"),
    "ad_claims": ("illegal_medical_ad",),
}

GROUPS: tuple[str, ...] = (*CATEGORIES_OF_GROUP, CONTEXT_GROUP)

PATTERNS_FILE = "patterns.tsv"
NEGATION_FILE = "negation.txt"
NEGATION_VERBS_FILE = "negation_verbs.txt"
DOMAINS_FILE = "domains.txt"
STRUCTURE_FILE = "structure.tsv"
STRUCTURE_KINDS_FILE = "structure_kinds.tsv"
_TERM_FLAGS = frozenset({"boundary", "with_core", "pinyin", "initials"})
# Initials shorter than this are never distinctive ("dy" for 代约).
_MIN_INITIALS = 3
_PATTERN_FLAGS = frozenset({"with_core"})
_VERSION_LENGTH = 12


@dataclass(frozen=True, slots=True)
class Term:
    """One lexicon entry. ``key`` is its skeleton, the string actually matched."""

    group: str
    text: str
    key: str
    weight: float
    boundary: bool
    with_core: bool
    source: str
    pinyin: tuple[str, ...] = ()  # pinyin spellings matched over the pinyin view
    initials: tuple[str, ...] = ()  # initials matched as whole ASCII tokens

    @property
    def rule_id(self) -> str:
        return f"{self.group}.{self.text}"


@dataclass(frozen=True, slots=True)
class PatternRule:
    """A regular-expression rule, matched against the digits view."""

    group: str
    name: str
    weight: float
    regex: re.Pattern[str]
    with_core: bool
    source: str

    @property
    def rule_id(self) -> str:
        return f"{self.group}.{self.name}"


@dataclass(frozen=True, slots=True)
class StructureCue:
    """One cue of a page genre: a folded string ``key`` matched by the automaton, or a ``regex``."""

    kind: str
    text: str
    key: str
    regex: re.Pattern[str] | None
    source: str


@dataclass(frozen=True, slots=True)
class StructureKind:
    """A page genre and how much it discounts positive evidence once ``min_cues`` distinct cues are seen."""

    kind: str
    factor: float
    min_cues: int
    source: str
    absent: bool = False  # the structure is the *absence* of its cues (fewer than min_cues found)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """All scoring data of one lexicon directory."""

    directory: Path
    terms: tuple[Term, ...]
    patterns: tuple[PatternRule, ...]
    negators: tuple[str, ...]
    negation_verbs: tuple[str, ...]
    official_domains: tuple[str, ...]
    version: str
    structure_cues: tuple[StructureCue, ...] = ()
    structure_kinds: tuple[StructureKind, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a data file; ``line`` is 0 for a problem with the whole file."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class LexiconError(ValueError):
    """A lexicon directory has problems; ``problems`` lists all of them, the message shows them one a line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


class _Invalid(Exception):
    """One line's problem, raised by a parser and collected by `_read`."""


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _looks_like_typo(name: str, known: set[str]) -> bool:
    """Whether an unknown data file is probably a misspelt lexicon file ("servce.tsv"). Other unknown files
    belong to other modules that keep their data beside the lexicon (hospital names, known-bad hosts, ad
    cues): they count towards the lexicon version but are not parsed here."""
    return any(_edit_distance(name, k) <= 2 for k in known)


def _data_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in {".tsv", ".txt"})


def lexicon_version(lexicon_dir: Path | None = None) -> str:
    """Short sha256 over the names and contents of the lexicon's data files."""
    directory = lexicon_dir or DEFAULT_LEXICON_DIR
    digest = hashlib.sha256()
    for path in _data_files(directory):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:_VERSION_LENGTH]


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered content lines: comments and blank lines skipped, line ends stripped."""
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            yield number, line


def _parse_weight(group: str, weight_text: str) -> float:
    try:
        weight = float(weight_text)
    except ValueError:
        raise _Invalid(f"weight {weight_text!r} is not a number") from None
    if weight != weight or weight in (float("inf"), float("-inf")):
        raise _Invalid(f"weight {weight_text!r} is not a finite number")
    if group == CONTEXT_GROUP and weight >= 0:
        raise _Invalid(f"context weights must be negative, got {weight_text}")
    if group != CONTEXT_GROUP and weight <= 0:
        raise _Invalid(f"{group} weights must be positive, got {weight_text}")
    return weight


def _parse_flags(field: str, allowed: frozenset[str]) -> set[str]:
    flags = {f.strip() for f in field.split(",") if f.strip()}
    unknown = flags - allowed
    if unknown:
        raise _Invalid(f"unknown flag(s) {sorted(unknown)} (allowed: {sorted(allowed)})")
    return flags


def _pinyin_keys(text: str, key: str, flags: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not flags & {"pinyin", "initials"}:
        return (), ()
    if not has_reading(key):
        raise _Invalid(f"term {text!r} has no Chinese character to spell in pinyin")
    if len(key) > PINYIN_CONTEXT + 1:
        raise _Invalid(f"term {text!r} is too long for pinyin forms (at most {PINYIN_CONTEXT + 1} characters)")
    pinyin = pinyin_forms(key) if "pinyin" in flags else ()
    initials = initials_forms(key)[:1] if "initials" in flags else ()
    if initials and len(initials[0]) < _MIN_INITIALS:
        raise _Invalid(f"initials {initials[0]!r} of {text!r} are too short to be distinctive")
    return pinyin, initials


def _parse_term(group: str, path: Path, number: int, line: str) -> Term:
    fields = line.split("\t")
    if len(fields) not in (2, 3):
        raise _Invalid(f"expected 'term<TAB>weight[<TAB>flags]', got {line!r}")
    text = fields[0].strip()
    weight = _parse_weight(group, fields[1].strip())
    flags = _parse_flags(fields[2] if len(fields) == 3 else "", _TERM_FLAGS)
    key = fold_term(text)
    if not key:
        raise _Invalid(f"term {text!r} has an empty skeleton (only spaces, punctuation or symbols)")
    pinyin, initials = _pinyin_keys(text, key, flags)
    return Term(
        group=group,
        text=text,
        key=key,
        weight=weight,
        boundary="boundary" in flags,
        with_core="with_core" in flags,
        source=f"{path.name}:{number}",
        pinyin=pinyin,
        initials=initials,
    )


def _compile(regex_text: str) -> re.Pattern[str]:
    try:
        regex = re.compile(regex_text)
    except re.error as exc:
        raise _Invalid(f"bad regex {regex_text!r}: {exc}") from None
    if regex.search(""):
        raise _Invalid(f"regex {regex_text!r} matches the empty string")
    nested = nested_repeat(regex_text)
    if nested:
        raise _Invalid(f"regex {regex_text!r} nests unbounded repeats ({nested}): its matching may not be linear")
    return regex


def nested_repeat(regex_text: str) -> str | None:
    """The first unbounded repeat nested inside another unbounded repeat (``(a+)+``), which can make a
    backtracking engine take exponential time; None when there is none."""
    from re import _constants as constants  # type: ignore[attr-defined]
    from re import _parser as parser  # type: ignore[attr-defined]

    repeats = {constants.MAX_REPEAT, constants.MIN_REPEAT, getattr(constants, "POSSESSIVE_REPEAT", None)}

    def walk(items: object, inside: bool) -> str | None:
        for op, value in items:  # type: ignore[attr-defined]
            children: list[object] = []
            unbounded = False
            if op in repeats:
                low, high, sub = value
                unbounded = high == constants.MAXREPEAT
                if unbounded and inside:
                    return f"{op} {{{low},}} inside another unbounded repeat"
                children = [sub]
            elif op == constants.SUBPATTERN:
                children = [value[-1]]
            elif op == constants.BRANCH:
                children = list(value[1])
            elif op in (constants.ASSERT, constants.ASSERT_NOT):
                children = [value[1]]
            for child in children:
                found = walk(child, inside or unbounded)
                if found:
                    return found
        return None

    return walk(parser.parse(regex_text), False)


def _parse_pattern(path: Path, number: int, line: str) -> PatternRule:
    fields = line.split("\t")
    if len(fields) not in (4, 5):
        raise _Invalid(f"expected 'name<TAB>group<TAB>weight<TAB>regex[<TAB>flags]', got {line!r}")
    name, group, weight_text, regex_text = (f.strip() for f in fields[:4])
    flags = _parse_flags(fields[4] if len(fields) == 5 else "", _PATTERN_FLAGS)
    if group not in GROUPS:
        raise _Invalid(f"unknown group {group!r} (expected one of {list(GROUPS)})")
    if not name or not regex_text:
        raise _Invalid("empty name or regex")
    weight = _parse_weight(group, weight_text)
    return PatternRule(
        group=group,
        name=name,
        weight=weight,
        regex=_compile(regex_text),
        with_core="with_core" in flags,
        source=f"{path.name}:{number}",
    )


class _Reader:
    """Reads one lexicon directory, collecting every problem instead of stopping at the first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Problem] = []

    def lines(self, name: str) -> Iterator[tuple[Path, int, str]]:
        path = self.directory / name
        if not path.is_file():
            self.problems.append(Problem(path, 0, "missing lexicon file"))
            return
        try:
            for number, line in _lines(path):
                yield path, number, line
        except UnicodeDecodeError as exc:
            self.problems.append(Problem(path, 0, f"not UTF-8: {exc}"))

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def folded_entries(self, name: str, what: str) -> list[str]:
        keys: list[str] = []
        seen: set[str] = set()
        for path, number, line in self.lines(name):
            entry = line.strip()
            key = fold_term(entry)
            if not key:
                self.problem(path, number, f"{what} {entry!r} has an empty skeleton")
            elif key in seen:
                self.problem(path, number, f"duplicate {what} {entry!r}")
            else:
                seen.add(key)
                keys.append(key)
        return keys

    def read(self) -> Lexicon:
        directory = self.directory
        known = {f"{g}.tsv" for g in GROUPS} | {
            PATTERNS_FILE,
            NEGATION_FILE,
            NEGATION_VERBS_FILE,
            DOMAINS_FILE,
            STRUCTURE_FILE,
            STRUCTURE_KINDS_FILE,
        }
        for path in _data_files(directory):
            if path.name not in known and _looks_like_typo(path.name, known):
                self.problem(path, 0, f"unknown lexicon file (expected one of {sorted(known)})")

        terms = self.read_terms()
        patterns = self.read_patterns({t.rule_id for t in terms})
        negators = self.folded_entries(NEGATION_FILE, "negator")
        negation_verbs = self.folded_entries(NEGATION_VERBS_FILE, "negation verb")
        domains = self.read_domains()
        kinds = self.read_structure_kinds()
        cues = self.read_structure_cues({k.kind for k in kinds})
        return Lexicon(
            directory=directory,
            terms=tuple(terms),
            patterns=tuple(patterns),
            negators=tuple(negators),
            negation_verbs=tuple(negation_verbs),
            official_domains=tuple(domains),
            version=lexicon_version(directory),
            structure_cues=tuple(cues),
            structure_kinds=tuple(kinds),
        )

    def read_terms(self) -> list[Term]:
        terms: list[Term] = []
        seen: dict[str, Term] = {}
        seen_pinyin: dict[str, Term] = {}
        for group in GROUPS:
            for path, number, line in self.lines(f"{group}.tsv"):
                try:
                    term = _parse_term(group, path, number, line)
                except _Invalid as exc:
                    self.problem(path, number, str(exc))
                    continue
                if term.key in seen:
                    first = seen[term.key]
                    self.problem(
                        path,
                        number,
                        f"term {term.text!r} folds to {term.key!r}, "
                        f"already defined at {first.source} as {first.text!r}",
                    )
                    continue
                clash = next((seen_pinyin[k] for k in (*term.pinyin, *term.initials) if k in seen_pinyin), None)
                if clash is not None:
                    self.problem(
                        path, number, f"a pinyin form of {term.text!r} is also one of {clash.text!r} ({clash.source})"
                    )
                    continue
                seen[term.key] = term
                seen_pinyin.update(dict.fromkeys((*term.pinyin, *term.initials), term))
                terms.append(term)
        return terms

    def read_patterns(self, rule_ids: set[str]) -> list[PatternRule]:
        patterns: list[PatternRule] = []
        for path, number, line in self.lines(PATTERNS_FILE):
            try:
                pattern = _parse_pattern(path, number, line)
            except _Invalid as exc:
                self.problem(path, number, str(exc))
                continue
            if pattern.rule_id in rule_ids:
                self.problem(path, number, f"rule id {pattern.rule_id!r} is already used")
                continue
            rule_ids.add(pattern.rule_id)
            patterns.append(pattern)
        return patterns

    def read_domains(self) -> list[str]:
        domains: list[str] = []
        for path, number, line in self.lines(DOMAINS_FILE):
            entry = line.strip()
            domain = entry.lower().strip(".")
            if "." not in domain or "/" in domain or ":" in domain or " " in domain:
                self.problem(path, number, f"{entry!r} is not a bare domain or suffix")
            elif domain in domains:
                self.problem(path, number, f"duplicate domain {entry!r}")
            else:
                domains.append(domain)
        return domains

    def read_structure_kinds(self) -> list[StructureKind]:
        kinds: list[StructureKind] = []
        for path, number, line in self.lines(STRUCTURE_KINDS_FILE):
            fields = [f.strip() for f in line.split("\t")]
            if len(fields) not in (3, 4) or (len(fields) == 4 and fields[3] not in ("present", "absent")):
                self.problem(
                    path, number, f"expected 'kind<TAB>factor<TAB>min_cues[<TAB>present|absent]', got {line!r}"
                )
                continue
            kind, factor_text, min_text = fields[:3]
            absent = len(fields) == 4 and fields[3] == "absent"
            try:
                factor, min_cues = float(factor_text), int(min_text)
            except ValueError:
                self.problem(path, number, f"factor {factor_text!r} or min_cues {min_text!r} is not a number")
                continue
            if not 0 < factor <= 1 or min_cues < 1:
                self.problem(path, number, "factor must be within (0, 1] and min_cues at least 1")
            elif not re.fullmatch(r"[a-z_]+", kind) or kind in {k.kind for k in kinds}:
                self.problem(path, number, f"kind {kind!r} is not a new lower-case name")
            else:
                kinds.append(StructureKind(kind, factor, min_cues, f"{path.name}:{number}", absent))
        return kinds

    def read_structure_cues(self, kinds: set[str]) -> list[StructureCue]:
        cues: list[StructureCue] = []
        seen: set[tuple[str, str]] = set()
        for path, number, line in self.lines(STRUCTURE_FILE):
            fields = line.split("\t")
            if len(fields) != 2 or not fields[1].strip():
                self.problem(path, number, f"expected 'kind<TAB>cue', got {line!r}")
                continue
            kind, text = fields[0].strip(), fields[1].strip()
            if kind not in kinds:
                self.problem(path, number, f"unknown structure kind {kind!r} (declared: {sorted(kinds)})")
                continue
            regex: re.Pattern[str] | None = None
            key = ""
            try:
                if text.startswith("re:"):
                    regex = _compile(text[3:])
                else:
                    key = fold_term(text)
                    if not key:
                        raise _Invalid(f"cue {text!r} has an empty skeleton")
            except _Invalid as exc:
                self.problem(path, number, str(exc))
                continue
            if (kind, key or text) in seen:
                self.problem(path, number, f"duplicate {kind} cue {text!r}")
                continue
            seen.add((kind, key or text))
            cues.append(StructureCue(kind, text, key, regex, f"{path.name}:{number}"))
        return cues


def make_term(group: str, text: str, weight: float, flags: str = "", *, source: str = "") -> Term:
    """One term built and checked exactly as a line of ``<group>.tsv`` would be (for edits made outside the
    data files); raises ValueError with the problem."""
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r} (expected one of {list(GROUPS)})")
    if "\t" in text or "\n" in text or "\t" in flags or "\n" in flags:
        raise ValueError("a term and its flags cannot contain tabs or line breaks")
    try:
        term = _parse_term(group, Path(group + ".tsv"), 0, f"{text}\t{weight!r}\t{flags}")
    except _Invalid as exc:
        raise ValueError(str(exc)) from None
    return replace(term, source=source or term.source)


def check_domain(entry: str) -> str:
    """An allow-list entry checked as a line of ``domains.txt``; returns it normalised, raises ValueError."""
    domain = entry.strip().lower().strip(".")
    if "." not in domain or "/" in domain or ":" in domain or " " in domain:
        raise ValueError(f"{entry!r} is not a bare domain or suffix")
    return domain


def check_lexicon(lexicon_dir: Path | None = None) -> tuple[Lexicon, list[Problem]]:
    """Read a lexicon directory and return it with every problem found (an empty list when it is valid)."""
    reader = _Reader(lexicon_dir or DEFAULT_LEXICON_DIR)
    lexicon = reader.read()
    return lexicon, reader.problems


def load_lexicon(lexicon_dir: Path | None = None) -> Lexicon:
    """Parse and validate a lexicon directory; raise `LexiconError` listing every problem."""
    lexicon, problems = check_lexicon(lexicon_dir)
    if problems:
        raise LexiconError(problems)
    return lexicon
