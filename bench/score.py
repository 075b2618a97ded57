"""Scorer throughput against two baselines, linear scaling on hostile input, and lexicon memory, in one run.

Corpus: at least ``--mb`` megabytes (UTF-8) of Chinese pages. Each page joins a shuffled draw of texts from the
labelled scoring examples (tests/fixtures/scoring/labelled.jsonl) and the development corpus
(tests/fixtures/corpus/*.jsonl) -- offers, evasions, notices, news, fiction -- with paragraphs of filler: ordinary
Chinese prose made from jieba's bundled dictionary (simplified words drawn by their corpus frequency, with
punctuation), the bulk of what a crawler fetches. ``--filler`` is the filler's share of the bytes (default 0.9;
0 measures the labelled texts alone). The seed is fixed, so runs are comparable.

Measured on the same pages, one core, best of ``--repeat`` runs:

* our scorer: ``Scorer.score(text)`` -- normalisation (all views), automata, contacts, patterns, weighing;
* jieba baseline: ``jieba.lcut(text)`` (default mode) then a set lookup of every token among the lexicon terms;
* automaton baseline: a bare pyahocorasick scan of the raw text for the same terms (no normalisation).

Targets (issue 3): ours at least 25 times the jieba baseline, and at least a fifth of the bare automaton.

Scaling: hostile texts (one repeated character, emoji runs, mixed scripts, lone surrogates, a page repeated) are
scored at sizes n, 2n, 4n and 8n; time per character should stay flat (linear time).

Memory (measured first): after the shipped lexicon has been loaded once (which loads what every process loads
whatever its lexicon: pypinyin's and OpenCC's dictionaries, the normaliser's tables), a synthetic lexicon of
``--terms`` terms (default 100,000) is written to a temporary directory, loaded and compiled into the matcher's
automata; the report gives the traced Python allocations (tracemalloc) and the process's resident-memory
growth. Target: under 200 MB.

Prints; asserts nothing. Run: ``.venv/bin/python bench/score.py [--mb 20] [--filler 0.5] [--repeat 1]``
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import logging
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import ahocorasick  # noqa: E402
import jieba  # noqa: E402

from keywords import Scorer, load_scorer  # noqa: E402
from keywords.lexicon import DEFAULT_LEXICON_DIR, load_lexicon  # noqa: E402
from keywords.matcher import Matcher  # noqa: E402
from keywords.normalisation import traditional_characters  # noqa: E402
from keywords.tokenizer import TermTokenizer  # noqa: E402

LABELLED = ROOT / "tests" / "fixtures" / "scoring" / "labelled.jsonl"
CORPUS_DIR = ROOT / "tests" / "fixtures" / "corpus"
PAGE_BYTES = 12_000  # a typical extracted page
_PUNCTUATION = "，，，，。。、；：！？"


def _texts() -> list[str]:
    texts: list[str] = []
    for path in [LABELLED, *sorted(CORPUS_DIR.glob("*.jsonl"))]:
        with path.open(encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    return texts


def _filler_words() -> tuple[list[str], list[float]]:
    """Words of jieba's bundled dictionary written in simplified Chinese characters (the dictionary also holds
    traditional forms), with their cumulative frequencies."""
    traditional = traditional_characters()
    words: list[str] = []
    weights: list[float] = []
    with Path(jieba.get_dict_file().name).open(encoding="utf-8") as handle:
        for line in handle:
            word, freq, *_ = line.split()
            if 1 <= len(word) <= 4 and all("\u4e00" <= ch <= "\u9fff" and ch not in traditional for ch in word):
                words.append(word)
                weights.append(float(freq))
    return words, list(itertools.accumulate(weights))


def _filler_paragraph(rng: random.Random, words: list[str], cum_weights: list[float], size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        clause = "".join(rng.choices(words, cum_weights=cum_weights, k=rng.randint(3, 9)))
        out.append(clause + rng.choice(_PUNCTUATION))
        length += len(clause) + 1
    return "".join(out)


def build_pages(megabytes: float, filler_share: float, seed: int = 20261123) -> list[str]:
    """Pages of about `PAGE_BYTES` until the corpus reaches ``megabytes`` of UTF-8."""
    rng = random.Random(seed)
    texts = _texts()
    words, weights = _filler_words() if filler_share > 0 else ([], [])
    pages: list[str] = []
    total = 0
    target = int(megabytes * 1_000_000)
    while total < target:
        blocks: list[str] = []
        size = 0
        while size < PAGE_BYTES:
            if filler_share > 0 and rng.random() < filler_share:
                block = _filler_paragraph(rng, words, weights, rng.randint(60, 400))
            else:
                block = rng.choice(texts)
            blocks.append(block)
            size += len(block.encode("utf-8")) + 1
        page = "\n".join(blocks)
        pages.append(page)
        total += len(page.encode("utf-8"))
    return pages


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def throughput(scorer: Scorer, pages: list[str], repeat: int) -> None:
    megabytes = sum(len(p.encode("utf-8")) for p in pages) / 1_000_000
    terms = [t.text for t in scorer.lexicon.terms]
    lookup = set(terms)
    automaton = ahocorasick.Automaton()
    for index, term in enumerate(terms):
        automaton.add_word(term, index)
    automaton.make_automaton()
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()

    def ours() -> int:
        return sum(scorer.score(page).hit for page in pages)

    def jieba_baseline() -> int:
        return sum(1 for page in pages for token in jieba.lcut(page) if token in lookup)

    def automaton_baseline() -> int:
        return sum(1 for page in pages for _ in automaton.iter(page))

    hits = ours()
    t_ours = best_of(repeat, ours)
    t_jieba = best_of(repeat, jieba_baseline)
    t_aho = best_of(repeat, automaton_baseline)
    print(f"corpus: {megabytes:.1f} MB in {len(pages):,} pages; {hits:,} pages are hits; {len(terms)} terms")
    for label, seconds in (("our scorer", t_ours), ("jieba.lcut + lookup", t_jieba), ("bare pyahocorasick", t_aho)):
        print(f"  {label:22s} {megabytes / seconds:8.2f} MB/s  ({seconds:.2f} s)")
    print(f"  ours / jieba     = {t_jieba / t_ours:6.1f}x   (target >= 25x)")
    print(f"  ours / automaton = {t_aho / t_ours:6.3f}    (target >= 0.2)")


def scaling(scorer: Scorer, base_chars: int) -> None:
    page = "\n".join(_texts()[:40])
    hostile: dict[str, Callable[[int], str]] = {
        "one repeated char": lambda n: "号" * n,
        "emoji run": lambda n: ("😀🙏🈶➕" * n)[:n],
        "mixed scripts": lambda n: ("代guahao专家号Ｖ信①③⑧ مرحبا привет \u200b幺三八 " * n)[:n],
        "lone surrogates": lambda n: ("\udcff代\ud800挂号" * n)[:n],
        "pinyin letters": lambda n: ("daiguahao" * n)[:n],
        "a page repeated": lambda n: (page * (n // len(page) + 1))[:n],
    }
    print(f"\nscaling (seconds per million characters at n, 2n, 4n, 8n; n = {base_chars:,}):")
    for label, make in hostile.items():
        per_million: list[float] = []
        for factor in (1, 2, 4, 8):
            text = make(base_chars * factor)
            started = time.perf_counter()
            scorer.score(text)
            per_million.append((time.perf_counter() - started) / len(text) * 1_000_000)
        shown = "  ".join(f"{v:6.3f}" for v in per_million)
        print(f"  {label:18s} {shown}   8n/n = {per_million[-1] / per_million[0]:.2f}")


def _synthetic_terms(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3500)]
    terms: set[str] = set()
    while len(terms) < count:
        terms.add("".join(rng.choices(alphabet, k=rng.randint(3, 6))))
    return sorted(terms)


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        resident_pages = int(handle.read().split()[1])
    return resident_pages * 4096 / 1_000_000


def memory(count: int) -> None:
    # What every process loads once whatever the lexicon's size (pypinyin's and OpenCC's dictionaries, the
    # normaliser's tables) is loaded first, with the shipped lexicon, so the figures are the big lexicon's own.
    Matcher(load_lexicon(), TermTokenizer(load_lexicon()))
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "data"
        shutil.copytree(DEFAULT_LEXICON_DIR, directory)
        with (directory / "service.tsv").open("a", encoding="utf-8") as handle:
            handle.writelines(f"{term}\t5\n" for term in _synthetic_terms(count))
        gc.collect()
        rss_before = _rss_mb()
        tracemalloc.start()
        started = time.perf_counter()
        lexicon = load_lexicon(directory)
        matcher = Matcher(lexicon, TermTokenizer(lexicon))
        seconds = time.perf_counter() - started
        traced, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.collect()
        rss_after = _rss_mb()
        print(f"\nmemory: lexicon of {len(lexicon.terms):,} terms loaded and compiled in {seconds:.1f} s")
        print(f"  traced Python allocations held: {traced / 1_000_000:7.1f} MB")
        print(f"  resident memory growth:         {rss_after - rss_before:7.1f} MB   (target < 200 MB)")
        del matcher, lexicon


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size in megabytes of UTF-8")
    parser.add_argument("--filler", type=float, default=0.9, help="share of filler prose in the pages")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is reported")
    parser.add_argument("--terms", type=int, default=100_000, help="synthetic lexicon size for the memory test")
    parser.add_argument("--scaling-chars", type=int, default=250_000, help="n of the scaling test")
    args = parser.parse_args()

    memory(args.terms)  # first, while the process holds little else
    scorer = load_scorer()
    pages = build_pages(args.mb, args.filler)
    throughput(scorer, pages, args.repeat)
    scaling(scorer, args.scaling_chars)


if __name__ == "__main__":
    main()
