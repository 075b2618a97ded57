"""The scoring lexicon: term lists, negators and the official-domain allow-list, loaded from data files.

Layout of a lexicon directory (the default is ``keywords/data/``):

* ``<group>.tsv`` for each group in `GROUPS`: one term per line, ``term<TAB>weight[<TAB>flags]``. ``#`` starts
  a comment line; blank lines are ignored. Weights are positive, except in ``context.tsv`` (benign context,
  e.g. crackdown news and official notices) where they must be negative. ``flags`` is a comma-separated list:
  ``boundary`` -- the term is short or ambiguous and counts only where it falls on jieba token boundaries (see
  `keywords.tokenizer`); ``with_core`` -- the evidence weighs nothing unless the page has core evidence
  (see `keywords.scorer`).
* ``patterns.tsv``: regular-expression rules run on the digits view,
  ``name<TAB>group<TAB>weight<TAB>regex[<TAB>flags]`` (document numbers, "+V", prices); rule id
  ``<group>.<name>``, same weight signs as the term files; the only flag is ``with_core``.
* ``negation.txt``: negators, one per line. A positive term directly preceded by one ("不代挂号", "拒绝倒号")
  is negated (see `keywords.matcher` and `keywords.scorer`).
* ``negation_verbs.txt``: verbs, one per line, that may stand between a negator and the term it negates
  ("不转卖号源", "禁止发布代挂号广告").
* ``domains.txt``: official domains and suffixes, one per line ("gov.cn", a booking platform, a hospital).

Every term, negator and negation verb is folded with the same skeleton folding as page text
(`keywords.normalisation`) before it is used. A malformed line, a term whose skeleton is empty, or two terms with
the same skeleton raise `ValueError` naming ``file:line``. `lexicon_version` is a short sha256 over the data
files' names and bytes, so every score can be traced to the exact lexicon that produced it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from keywords.normalisation import fold_term

__all__ = [
    "CATEGORIES_OF_GROUP",
    "CONTEXT_GROUP",
    "DEFAULT_LEXICON_DIR",
    "GROUPS",
    "Lexicon",
    "PatternRule",
    "Term",
    "lexicon_version",
    "load_lexicon",
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
_TERM_FLAGS = frozenset({"boundary", "with_core"})
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
class Lexicon:
    """All scoring data of one lexicon directory."""

    directory: Path
    terms: tuple[Term, ...]
    patterns: tuple[PatternRule, ...]
    negators: tuple[str, ...]
    negation_verbs: tuple[str, ...]
    official_domains: tuple[str, ...]
    version: str


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


def _parse_weight(group: str, weight_text: str, where: str) -> float:
    try:
        weight = float(weight_text)
    except ValueError:
        raise ValueError(f"{where}: weight {weight_text!r} is not a number") from None
    if group == CONTEXT_GROUP and weight >= 0:
        raise ValueError(f"{where}: context weights must be negative, got {weight_text}")
    if group != CONTEXT_GROUP and weight <= 0:
        raise ValueError(f"{where}: {group} weights must be positive, got {weight_text}")
    return weight


def _parse_flags(field: str, allowed: frozenset[str], where: str) -> set[str]:
    flags = {f.strip() for f in field.split(",") if f.strip()}
    unknown = flags - allowed
    if unknown:
        raise ValueError(f"{where}: unknown flag(s) {sorted(unknown)} (allowed: {sorted(allowed)})")
    return flags


def _parse_term(group: str, path: Path, number: int, line: str) -> Term:
    where = f"{path}:{number}"
    fields = line.split("\t")
    if len(fields) not in (2, 3):
        raise ValueError(f"{where}: expected 'term<TAB>weight[<TAB>flags]', got {line!r}")
    text = fields[0].strip()
    weight = _parse_weight(group, fields[1].strip(), where)
    flags = _parse_flags(fields[2] if len(fields) == 3 else "", _TERM_FLAGS, where)
    key = fold_term(text)
    if not key:
        raise ValueError(f"{where}: term {text!r} has an empty skeleton (only spaces, punctuation or symbols)")
    source = f"{path.name}:{number}"
    return Term(
        group=group,
        text=text,
        key=key,
        weight=weight,
        boundary="boundary" in flags,
        with_core="with_core" in flags,
        source=source,
    )


def _parse_pattern(path: Path, number: int, line: str) -> PatternRule:
    where = f"{path}:{number}"
    fields = line.split("\t")
    if len(fields) not in (4, 5):
        raise ValueError(f"{where}: expected 'name<TAB>group<TAB>weight<TAB>regex[<TAB>flags]', got {line!r}")
    name, group, weight_text, regex_text = (f.strip() for f in fields[:4])
    flags = _parse_flags(fields[4] if len(fields) == 5 else "", _PATTERN_FLAGS, where)
    if group not in GROUPS:
        raise ValueError(f"{where}: unknown group {group!r} (expected one of {list(GROUPS)})")
    if not name or not regex_text:
        raise ValueError(f"{where}: empty name or regex")
    weight = _parse_weight(group, weight_text, where)
    try:
        regex = re.compile(regex_text)
    except re.error as exc:
        raise ValueError(f"{where}: bad regex {regex_text!r}: {exc}") from None
    if regex.search(""):
        raise ValueError(f"{where}: regex {regex_text!r} matches the empty string")
    return PatternRule(
        group=group,
        name=name,
        weight=weight,
        regex=regex,
        with_core="with_core" in flags,
        source=f"{path.name}:{number}",
    )


def _plain_entries(path: Path) -> list[tuple[int, str]]:
    return [(number, line.strip()) for number, line in _lines(path)]


def _folded_entries(path: Path, what: str) -> list[str]:
    """Entries of a plain list file, folded like terms; an entry with an empty skeleton is an error."""
    keys: list[str] = []
    for number, entry in _plain_entries(path):
        key = fold_term(entry)
        if not key:
            raise ValueError(f"{path}:{number}: {what} {entry!r} has an empty skeleton")
        keys.append(key)
    return keys


def load_lexicon(lexicon_dir: Path | None = None) -> Lexicon:
    """Parse and validate a lexicon directory."""
    directory = lexicon_dir or DEFAULT_LEXICON_DIR
    known = {f"{g}.tsv" for g in GROUPS} | {PATTERNS_FILE, NEGATION_FILE, NEGATION_VERBS_FILE, DOMAINS_FILE}
    for path in _data_files(directory):
        if path.name not in known:
            raise ValueError(f"{path}: unknown lexicon file (expected one of {sorted(known)})")

    terms: list[Term] = []
    seen: dict[str, Term] = {}
    for group in GROUPS:
        path = directory / f"{group}.tsv"
        for number, line in _lines(path):
            term = _parse_term(group, path, number, line)
            if term.key in seen:
                first = seen[term.key]
                raise ValueError(
                    f"{path}:{number}: term {term.text!r} folds to {term.key!r}, "
                    f"already defined at {first.source} as {first.text!r}"
                )
            seen[term.key] = term
            terms.append(term)

    patterns: list[PatternRule] = []
    patterns_path = directory / PATTERNS_FILE
    rule_ids = {t.rule_id for t in terms}
    for number, line in _lines(patterns_path):
        pattern = _parse_pattern(patterns_path, number, line)
        if pattern.rule_id in rule_ids:
            raise ValueError(f"{patterns_path}:{number}: rule id {pattern.rule_id!r} is already used")
        rule_ids.add(pattern.rule_id)
        patterns.append(pattern)

    negators = _folded_entries(directory / NEGATION_FILE, "negator")
    negation_verbs = _folded_entries(directory / NEGATION_VERBS_FILE, "negation verb")

    domains: list[str] = []
    domains_path = directory / DOMAINS_FILE
    for number, entry in _plain_entries(domains_path):
        domain = entry.lower().strip(".")
        if "." not in domain or "/" in domain or ":" in domain or " " in domain:
            raise ValueError(f"{domains_path}:{number}: {entry!r} is not a bare domain or suffix")
        domains.append(domain)

    return Lexicon(
        directory=directory,
        terms=tuple(terms),
        patterns=tuple(patterns),
        negators=tuple(negators),
        negation_verbs=tuple(negation_verbs),
        official_domains=tuple(domains),
        version=lexicon_version(directory),
    )
