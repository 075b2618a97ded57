"""``touthunt lexicon``: the analyst's commands for the scoring lexicon -- ``check`` validates the data files,
``suggest`` proposes new terms from confirmed hits.

``check`` reports every problem as ``file:line: message`` and exits 1 when there is any. Besides the format
checks of `keywords.lexicon.check_lexicon` (weights, flags, regexes, duplicates, pinyin forms), it proves that
every term, pinyin form, initials form and structure cue can match: each is written on its own, normalised and
run through the real matcher, and one that is not found there can never match after normalisation (a term that
straddles a clause break such as "陪诊，服务费", an ASCII edge glued to a letter, ...).

``suggest`` reads two JSON Lines files of pages (``{"text": ...}`` per line; confirmed hits and benign pages),
segments their text with jieba in dictionary mode with every lexicon term as a user word (so known terms stay
whole and do not crowd out their neighbours), takes words and pairs of adjacent words as candidates, and ranks
the candidates found in at least `MIN_HIT_DOCS` hits by TF-IDF: their frequency in the hits times
``ln((1 + benign pages) / (1 + benign pages containing it)) + 1``. Terms already in the lexicon, numbers and
single characters are left out. It prints one tab-separated line per candidate -- candidate, score, hits
containing it, benign pages containing it -- for the analyst to accept into a group file with a weight.

The lead registers the group in ``crawler/cli.py`` (``main.add_command(lexicon)``); it needs no configuration.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import click

from crawler.config import DEFAULT_CONFIG_PATH
from keywords.lexicon import DEFAULT_LEXICON_DIR, Lexicon, Problem, check_lexicon
from keywords.matcher import Matcher
from keywords.normalisation import normalise
from keywords.tokenizer import TermTokenizer

__all__ = ["MIN_HIT_DOCS", "Suggestion", "lexicon", "never_matching", "suggest_terms"]

MIN_HIT_DOCS = 2
# A clause: a run of content characters of the folded text (punctuation and spaces end it).
_CLAUSE = re.compile(r"[^\W_]+")
_CANDIDATE = re.compile(r"[\u3400-\u9fffa-z]")
_NUMERIC = re.compile(r"[0-9a-z_\-]*[0-9][0-9a-z_\-]*")


def never_matching(lexicon: Lexicon) -> list[Problem]:
    """Terms, pinyin and initials forms and structure cues that the matcher does not find when each is the
    whole text: they can never match after normalisation."""
    matcher = Matcher(lexicon, TermTokenizer.for_lexicon(lexicon))
    problems: list[Problem] = []

    def where(source: str) -> tuple[Path, int]:
        name, _, line = source.rpartition(":")
        return lexicon.directory / name, int(line)

    for term in lexicon.terms:
        spellings = [(term.text, "term"), *((f, "pinyin form") for f in term.pinyin[:1])]
        spellings += [(f, "initials form") for f in term.initials]
        for spelling, what in spellings:
            scan = matcher.scan(normalise(spelling))
            if not any(m.term.key == term.key or term.key in m.term.key for m in scan.terms):
                path, line = where(term.source)
                problems.append(
                    Problem(path, line, f"{what} {spelling!r} of {term.rule_id} can never match after normalisation")
                )
    absent = {k.kind for k in lexicon.structure_kinds if k.absent}
    for cue in lexicon.structure_cues:
        if cue.regex is not None:
            continue
        alone = normalise(cue.text)
        if cue.kind in absent:
            found = matcher.first_absent_cue(alone) is not None
        else:
            found = any(m.cue == cue for m in matcher.scan(alone).cues)
        if not found:
            path, line = where(cue.source)
            problems.append(Problem(path, line, f"{cue.kind} cue {cue.text!r} can never match after normalisation"))
    return problems


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A candidate term with its TF-IDF score and document counts."""

    term: str
    score: float
    hit_docs: int
    benign_docs: int


def _candidates(text: str, tokenizer: TermTokenizer) -> list[str]:
    """Words and adjacent word pairs of every clause of ``text`` (folded: t2s, NFKC, lower-case)."""
    found: list[str] = []
    for clause in _CLAUSE.findall(normalise(text).digits):
        words = [w for w in tokenizer.segment(clause) if w.strip()]
        found.extend(words)
        found.extend(a + b for a, b in itertools.pairwise(words))
    return [
        c
        for c in found
        if len(c) >= 2 and len(c) <= 8 and _CANDIDATE.search(c) and not _NUMERIC.fullmatch(c) and c.isprintable()
    ]


def suggest_terms(lexicon: Lexicon, hits: list[str], benign: list[str], top: int = 30) -> list[Suggestion]:
    """The ``top`` candidates of the module docstring, best first (ties: more hits, then alphabetical)."""
    tokenizer = TermTokenizer.for_lexicon(lexicon)
    known = {term.key for term in lexicon.terms}
    term_counts: Counter[str] = Counter()
    hit_docs: Counter[str] = Counter()
    for text in hits:
        found = _candidates(text, tokenizer)
        term_counts.update(found)
        hit_docs.update(set(found))
    benign_docs: Counter[str] = Counter()
    for text in benign:
        benign_docs.update(set(_candidates(text, tokenizer)))
    total = sum(term_counts.values()) or 1
    suggestions = [
        Suggestion(
            term=term,
            score=(count / total) * (math.log((1 + len(benign)) / (1 + benign_docs[term])) + 1),
            hit_docs=hit_docs[term],
            benign_docs=benign_docs[term],
        )
        for term, count in term_counts.items()
        if hit_docs[term] >= MIN_HIT_DOCS and normalise(term).skeleton not in known
    ]
    suggestions.sort(key=lambda s: (-s.score, -s.hit_docs, s.term))
    return suggestions[:top]


def _read_texts(handle: TextIO, name: str) -> list[str]:
    texts: list[str] = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"{name}:{number}: not JSON ({exc.msg})") from None
        text = record.get("text") if isinstance(record, dict) else None
        if not isinstance(text, str):
            raise click.ClickException(f'{name}:{number}: no "text" string')
        texts.append(text)
    return texts


@click.group()
def lexicon() -> None:
    """Check and grow the scoring lexicon (keywords/data)."""


_LEXICON_DIR = click.option(
    "--lexicon-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help=f"Lexicon directory (default: {DEFAULT_LEXICON_DIR}).",
)


@lexicon.command("check")
@_LEXICON_DIR
def check(lexicon_dir: Path | None) -> None:
    """Validate every lexicon data file; print file:line: message per problem, exit 1 if there is any."""
    loaded, problems = check_lexicon(lexicon_dir)
    if not problems:
        problems = never_matching(loaded)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s) in {loaded.directory}", err=True)
        sys.exit(1)
    cues = len(loaded.structure_cues)
    click.echo(
        f"ok: {len(loaded.terms)} terms, {len(loaded.patterns)} patterns, {cues} structure cues, "
        f"version {loaded.version}",
        err=True,
    )


@lexicon.command("suggest")
@click.option("--hits", "hits_file", type=click.File("r", encoding="utf-8"), help="Confirmed hits (JSON Lines).")
@click.option("--benign", "benign_file", type=click.File("r", encoding="utf-8"), help="Benign pages (JSON Lines).")
@click.option("--from-db", is_flag=True, help="Learn from the database: confirmed hits against dismissed hits and "
              "pages that never became hits.")  # fmt: skip
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_CONFIG_PATH,
              show_default=True, help="Configuration file (with --from-db).")  # fmt: skip
@click.option("--top", type=click.IntRange(min=1), default=30, show_default=True, help="How many to propose.")
@_LEXICON_DIR
def suggest(
    hits_file: TextIO | None,
    benign_file: TextIO | None,
    from_db: bool,
    config_path: Path,
    top: int,
    lexicon_dir: Path | None,
) -> None:
    """Propose new terms: TF-IDF of words in confirmed hits against benign pages."""
    loaded, problems = check_lexicon(lexicon_dir)
    if problems:
        raise click.ClickException(f"the lexicon has problems; run `touthunt lexicon check`: {problems[0]}")
    if from_db:
        hits, benign = _texts_from_database(config_path)
    elif hits_file is not None and benign_file is not None:
        hits = _read_texts(hits_file, hits_file.name)
        benign = _read_texts(benign_file, benign_file.name)
    else:
        raise click.UsageError("give --hits and --benign files, or --from-db")
    if not hits:
        raise click.ClickException("no confirmed hits to learn from yet")
    click.echo("term\tscore\thits\tbenign")
    for item in suggest_terms(loaded, hits, benign, top):
        click.echo(f"{item.term}\t{item.score:.4f}\t{item.hit_docs}/{len(hits)}\t{item.benign_docs}/{len(benign)}")


def _texts_from_database(config_path: Path) -> tuple[list[str], list[str]]:
    from crawler.command import open_database
    from crawler.config import load_config
    from crawler.errors import ConfigError
    from storage.intel import suggestion_texts

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.echo(f"配置错误 (configuration error): {exc}", err=True)
        sys.exit(2)
    with open_database(config)() as session:
        return suggestion_texts(session)
