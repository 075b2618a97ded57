"""Tests for ``touthunt lexicon check`` and ``touthunt lexicon suggest`` (crawler/lexicon_cli.py), invoked through
click's test runner on the command group itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.lexicon_cli import lexicon, suggest_terms
from keywords.lexicon import DEFAULT_LEXICON_DIR, load_lexicon


@pytest.fixture
def lexicon_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_LEXICON_DIR, target)
    return target


def _append(path: Path, line: str) -> int:
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n", encoding="utf-8")
    return text.count("\n") + 1


def test_check_passes_on_the_shipped_lexicon() -> None:
    result = CliRunner().invoke(lexicon, ["check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "ok:" in result.stderr


def test_check_lists_every_problem_as_file_line_message(lexicon_dir: Path) -> None:
    bad_weight = _append(lexicon_dir / "fees.tsv", "跑腿钱\tlots")
    duplicate = _append(lexicon_dir / "service.tsv", "代掛號\t30")
    bad_regex = _append(lexicon_dir / "patterns.tsv", "broken\tfees\t5\t([0-9]+")
    bad_flag = _append(lexicon_dir / "tout.tsv", "祖传妙方\t10\tsometimes")
    result = CliRunner().invoke(lexicon, ["check", "--lexicon-dir", str(lexicon_dir)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{lexicon_dir / 'service.tsv'}:{duplicate}",
        f"{lexicon_dir / 'fees.tsv'}:{bad_weight}",
        f"{lexicon_dir / 'tout.tsv'}:{bad_flag}",
        f"{lexicon_dir / 'patterns.tsv'}:{bad_regex}",
    ]
    assert "4 problem(s)" in result.stderr


@pytest.mark.parametrize(
    ("file", "entry", "message"),
    [
        ("fees.tsv", "陪诊，服务费\t5", "term '陪诊，服务费' of fees.陪诊，服务费 can never match"),
        ("cta.tsv", "加v信息\t5", None),  # matches: not a problem
        ("structure.tsv", "news\t记者，报道", "news cue '记者，报道' can never match"),
    ],
)
def test_check_finds_terms_that_can_never_match(lexicon_dir: Path, file: str, entry: str, message: str | None) -> None:
    line = _append(lexicon_dir / file, entry)
    result = CliRunner().invoke(lexicon, ["check", "--lexicon-dir", str(lexicon_dir)])
    if message is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1
        assert f"{lexicon_dir / file}:{line}: {message}" in result.stdout


def _jsonl(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
    return path


def test_suggest_ranks_words_of_hits_that_benign_pages_lack(tmp_path: Path) -> None:
    hits = _jsonl(
        tmp_path / "hits.jsonl",
        ["代挂号，黄牛票务专线，专家号", "黄牛票务专线帮你挂号", "代挂号，黄牛票务专线当天出票", "今天医院人很多"],
    )
    benign = _jsonl(tmp_path / "benign.jsonl", ["今天医院人很多", "医院门诊时间表", "代挂号是违法的"])
    result = CliRunner().invoke(lexicon, ["suggest", "--hits", str(hits), "--benign", str(benign), "--top", "5"])
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert rows[0] == ["term", "score", "hits", "benign"]
    terms = [row[0] for row in rows[1:]]
    assert len(terms) <= 5
    assert "票务" in terms or "黄牛票务" in terms or "专线" in terms
    assert "代挂号" not in terms and "专家号" not in terms  # already in the lexicon
    assert all(row[2].endswith("/4") and row[3].endswith("/3") for row in rows[1:])


def test_suggest_leaves_out_numbers_and_single_characters() -> None:
    found = suggest_terms(load_lexicon(), ["电话13812345678 a", "电话13812345678 a"], [], top=50)
    assert all(not s.term.isdigit() and len(s.term) >= 2 for s in found)


def test_suggest_rejects_malformed_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\nnot json\n', encoding="utf-8")
    result = CliRunner().invoke(lexicon, ["suggest", "--hits", str(bad), "--benign", str(bad)])
    assert result.exit_code == 1
    assert ":2: not JSON" in result.output
