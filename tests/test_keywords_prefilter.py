"""The regex gate (keywords.prefilter): requirements read from regexes, and a gate that only skips regexes
which cannot match."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from keywords.lexicon import Lexicon, load_lexicon
from keywords.normalisation import normalise
from keywords.prefilter import RegexGate, requirements


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("日电", [{"日电"}]),
        ("[0-9]{1,2}月[0-9]{1,2}日电", [set("0123456789"), {"月"}, {"日电"}]),
        ("[+➕]\\s*(?:vx|微信)(?![a-z])", [{"+", "➕"}, {"vx", "微信"}]),
        ("(?:19|20)[0-9]{2}", [{"19", "20"}, set("0123456789")]),
        ("x|yz", [{"x", "yz"}]),
        ("a(?:b)?c", [{"a"}, {"c"}]),
        ("a(?=x)b", [{"ab"}]),
        ("[^a]b", [{"b"}]),
        ("\\d+元", [{"元"}]),
        ("a*", []),
        ("x|.", []),
        ("(?i)abc", []),
        ("(?i:ab)c", [{"c"}]),
        ("(ab)\\1", [{"ab"}]),
    ],
)
def test_requirements(pattern: str, expected: list[set[str]]) -> None:
    assert [set(options) for options in requirements(re.compile(pattern))] == expected


def _texts() -> list[str]:
    fixtures = Path(__file__).parent / "fixtures"
    return [
        json.loads(line)["text"]
        for path in [fixtures / "scoring" / "labelled.jsonl", *sorted((fixtures / "corpus").glob("*.jsonl"))]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_the_gate_skips_only_regexes_that_cannot_match(lexicon: Lexicon) -> None:
    regexes = [r.regex for r in lexicon.patterns] + [c.regex for c in lexicon.structure_cues if c.regex is not None]
    gate = RegexGate(regexes)
    skipped = 0
    for text in [*_texts(), "", "+V 微信 100元 〔2024〕12号", "😀\udcff来源: 新华社 3月5日电"]:
        digits = normalise(text).digits
        for regex, may_match in zip(regexes, gate.may_match(digits), strict=True):
            if not may_match:
                skipped += 1
                assert regex.search(digits) is None, (regex.pattern, text[:80])
    assert skipped > 0


def test_a_gate_without_requirements_lets_everything_through() -> None:
    gate = RegexGate([re.compile("a*b?"), re.compile("(?i)x")])
    assert gate.may_match("") == [True, True]
    assert RegexGate([]).may_match("abc") == []
