"""Throughput of the full keyword scorer against a naive baseline measured in the same run.

Corpus: the labelled scoring examples (tests/fixtures/scoring/labelled.jsonl) repeated to about 2 MB of text,
scored twice: once example by example (short pages, where per-page overhead shows), once joined into pages of
about 8,000 characters (closer to real crawled pages). Baseline: for every page, a plain ``str.find`` loop
counting every occurrence of every lexicon term on the raw text (no normalisation, no offsets, no contacts, no
scoring). The ratio says how much slower the real thing is than the cheapest possible keyword pass. Prints;
asserts nothing.

Run: ``.venv/bin/python bench/bench_scorer.py [--mb 2.0] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from keywords import Scorer, load_scorer  # noqa: E402
from keywords.lexicon import load_lexicon  # noqa: E402
from keywords.normalisation import normalise  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "scoring" / "labelled.jsonl"


def join_pages(pages: list[tuple[str, str | None]], page_chars: int) -> list[tuple[str, str | None]]:
    """Concatenate short pages into long ones (no URL, so the allow-list does not hide their text)."""
    joined: list[tuple[str, str | None]] = []
    buffer: list[str] = []
    size = 0
    for text, _ in pages:
        buffer.append(text)
        size += len(text) + 1
        if size >= page_chars:
            joined.append(("\n".join(buffer), None))
            buffer, size = [], 0
    if buffer:
        joined.append(("\n".join(buffer), None))
    return joined


def build_corpus(target_chars: int) -> list[tuple[str, str | None]]:
    with FIXTURE.open(encoding="utf-8") as handle:
        examples = [json.loads(line) for line in handle if line.strip()]
    pages: list[tuple[str, str | None]] = []
    total = 0
    while total < target_chars:
        for example in examples:
            pages.append((example["text"], example.get("url")))
            total += len(example["text"])
            if total >= target_chars:
                break
    return pages


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=2.0, help="corpus size in millions of characters")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    args = parser.parse_args()

    started = time.perf_counter()
    scorer = load_scorer()
    load_seconds = time.perf_counter() - started
    terms = [term.text for term in load_lexicon().terms]
    pages = build_corpus(int(args.mb * 1_000_000))
    chars = sum(len(text) for text, _ in pages)

    print(f"corpus: {chars:,} chars; lexicon {scorer.lexicon_version}, {len(terms)} terms")
    print(f"load_scorer (lexicon + automaton + jieba): {load_seconds:.2f} s")
    for label, corpus in (("short pages", pages), ("8k-char pages", join_pages(pages, 8000))):
        measure(label, corpus, scorer, terms, args.repeat)


def measure(label: str, pages: list[tuple[str, str | None]], scorer: Scorer, terms: list[str], repeat: int) -> None:
    chars = sum(len(text) for text, _ in pages)

    def baseline() -> int:
        found = 0
        for text, _ in pages:
            for term in terms:
                pos = text.find(term)
                while pos != -1:
                    found += 1
                    pos = text.find(term, pos + 1)
        return found

    def normalise_only() -> None:
        for text, _ in pages:
            normalise(text)

    def full() -> int:
        return sum(scorer.score(text, url=url).hit for text, url in pages)

    base_s = best_of(repeat, baseline)
    norm_s = best_of(repeat, normalise_only)
    full_s = best_of(repeat, full)
    print(f"\n{label}: {len(pages):,} pages, {chars / len(pages):,.0f} chars/page on average")
    print(f"  baseline str.find loop : {chars / base_s:>12,.0f} chars/s ({base_s:.3f} s)")
    print(f"  normalise only         : {chars / norm_s:>12,.0f} chars/s ({norm_s:.3f} s)")
    print(f"  full scorer            : {chars / full_s:>12,.0f} chars/s ({full_s:.3f} s)")
    print(f"  full scorer / baseline : {base_s / full_s:.3f}x the baseline's throughput")


if __name__ == "__main__":
    main()
