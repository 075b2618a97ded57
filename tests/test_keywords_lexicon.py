"""Tests for keywords.lexicon: loading, validation errors with file:line, and the lexicon version."""

from __future__ import annotations

import re
import shutil
from typing import TYPE_CHECKING

import pytest

from keywords import lexicon_version
from keywords.lexicon import DEFAULT_LEXICON_DIR, GROUPS, LexiconError, check_lexicon, load_lexicon

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def lexicon_dir(tmp_path: Path) -> Path:
    """A writable copy of the shipped lexicon."""
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_LEXICON_DIR, target)
    return target


def _append(path: Path, *lines: str) -> int:
    """Append lines to a data file; return the line number of the first appended line."""
    existing = path.read_text(encoding="utf-8")
    if not existing.endswith("\n"):
        existing += "\n"
    path.write_text(existing + "".join(line + "\n" for line in lines), encoding="utf-8")
    return existing.count("\n") + 1


def test_shipped_lexicon_loads_every_group() -> None:
    lexicon = load_lexicon()
    groups = {term.group for term in lexicon.terms}
    assert groups == set(GROUPS)
    assert all(term.key for term in lexicon.terms)
    assert lexicon.negators and lexicon.official_domains and lexicon.patterns
    assert "gov.cn" in lexicon.official_domains
    assert {p.rule_id for p in lexicon.patterns} >= {"context.doc_number", "cta.plus_v", "fees.price"}


def test_weights_have_the_right_sign() -> None:
    for term in load_lexicon().terms:
        assert (term.weight < 0) == (term.group == "context"), term


def test_terms_are_folded_like_page_text() -> None:
    terms = {t.text: t for t in load_lexicon().terms}
    assert terms["加v"].key == "加v"
    assert terms["v信"].key == "v信"
    assert terms["加号"].boundary
    assert not terms["代挂号"].boundary


def test_version_is_short_sha256_and_stable() -> None:
    version = lexicon_version()
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    assert version == lexicon_version(DEFAULT_LEXICON_DIR) == load_lexicon().version


def test_version_changes_with_file_contents(lexicon_dir: Path) -> None:
    before = lexicon_version(lexicon_dir)
    assert before == lexicon_version()
    _append(lexicon_dir / "service.tsv", "代挂门诊号\t20")
    after = lexicon_version(lexicon_dir)
    assert after != before
    assert load_lexicon(lexicon_dir).version == after


def test_term_with_empty_skeleton_names_file_and_line(lexicon_dir: Path) -> None:
    line = _append(lexicon_dir / "service.tsv", "＠ # ！\t10")
    with pytest.raises(ValueError, match=rf"service\.tsv:{line}: .*empty skeleton"):
        load_lexicon(lexicon_dir)


def test_bad_weight_names_file_and_line(lexicon_dir: Path) -> None:
    line = _append(lexicon_dir / "fees.tsv", "跑腿钱\tlots")
    with pytest.raises(ValueError, match=rf"fees\.tsv:{line}: weight 'lots' is not a number"):
        load_lexicon(lexicon_dir)


@pytest.mark.parametrize(
    ("file", "entry", "message"),
    [
        ("context.tsv", "新闻发布会\t5", "context weights must be negative"),
        ("cta.tsv", "私聊我\t-5", "cta weights must be positive"),
        ("tout.tsv", "祖传妙方\t10\tsometimes", "unknown flag"),
        ("tout.tsv", "祖传妙方", "expected 'term<TAB>weight"),
        ("service.tsv", "代掛號\t30", "folds to '代挂号', already defined at service.tsv:"),
    ],
)
def test_invalid_term_lines_name_file_and_line(lexicon_dir: Path, file: str, entry: str, message: str) -> None:
    line = _append(lexicon_dir / file, entry)
    with pytest.raises(ValueError, match=rf"{re.escape(file)}:{line}: .*{re.escape(message)}"):
        load_lexicon(lexicon_dir)


def test_invalid_pattern_lines_name_file_and_line(lexicon_dir: Path) -> None:
    line = _append(lexicon_dir / "patterns.tsv", "broken\tfees\t5\t([0-9]+")
    with pytest.raises(ValueError, match=rf"patterns\.tsv:{line}: bad regex"):
        load_lexicon(lexicon_dir)


def test_pattern_matching_empty_string_is_rejected(lexicon_dir: Path) -> None:
    line = _append(lexicon_dir / "patterns.tsv", "anything\tfees\t5\t[0-9]*")
    with pytest.raises(ValueError, match=rf"patterns\.tsv:{line}: .*matches the empty string"):
        load_lexicon(lexicon_dir)


def test_bad_domain_names_file_and_line(lexicon_dir: Path) -> None:
    line = _append(lexicon_dir / "domains.txt", "https://www.example.org.cn/")
    with pytest.raises(ValueError, match=rf"domains\.txt:{line}: .*not a bare domain"):
        load_lexicon(lexicon_dir)


@pytest.mark.parametrize(("file", "what"), [("negation.txt", "negator"), ("negation_verbs.txt", "negation verb")])
def test_negation_entry_with_empty_skeleton_names_file_and_line(lexicon_dir: Path, file: str, what: str) -> None:
    line = _append(lexicon_dir / file, "！！")
    with pytest.raises(ValueError, match=rf"{re.escape(file)}:{line}: {what} '！！' has an empty skeleton"):
        load_lexicon(lexicon_dir)


def test_negation_verbs_are_loaded_folded() -> None:
    verbs = load_lexicon().negation_verbs
    assert "转卖" in verbs and "发布" in verbs
    assert all(v == v.strip() and v for v in verbs)


def test_unknown_data_file_is_rejected(lexicon_dir: Path) -> None:
    (lexicon_dir / "servce.tsv").write_text("代挂号\t30\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"servce\.tsv: unknown lexicon file"):
        load_lexicon(lexicon_dir)


def test_comments_and_blank_lines_are_ignored(lexicon_dir: Path) -> None:
    before = len(load_lexicon(lexicon_dir).terms)
    _append(lexicon_dir / "service.tsv", "", "# a comment\t with a tab", "   ", "代抢专家号\t25")
    terms = load_lexicon(lexicon_dir).terms
    assert len(terms) == before + 1
    added = next(t for t in terms if t.text == "代抢专家号")
    assert added.rule_id == "service.代抢专家号"
    assert added.source.startswith("service.tsv:")


@pytest.mark.parametrize(
    ("file", "entry", "message"),
    [
        ("cta.tsv", "好友\t5\tinitials", "too short to be distinctive"),
        ("cta.tsv", "abc\t5\tpinyin", "no Chinese character"),
        ("service.tsv", "挂号费到医院再付款吧\t5\tpinyin", "too long for pinyin forms"),
        ("service.tsv", "代掛\t5\tpinyin", "folds to '代挂'"),
    ],
)
def test_invalid_pinyin_flags_name_file_and_line(lexicon_dir: Path, file: str, entry: str, message: str) -> None:
    line = _append(lexicon_dir / file, entry)
    with pytest.raises(ValueError, match=rf"{re.escape(file)}:{line}: .*{re.escape(message)}"):
        load_lexicon(lexicon_dir)


def test_pinyin_form_shared_by_two_terms_is_an_error(lexicon_dir: Path) -> None:
    line = _append(lexicon_dir / "service.tsv", "带挂号\t10\tpinyin")  # reads daiguahao, like 代挂号
    with pytest.raises(ValueError, match=rf"service\.tsv:{line}: a pinyin form of '带挂号' is also one of '代挂号'"):
        load_lexicon(lexicon_dir)


def test_regex_with_nested_unbounded_repeats_is_rejected(lexicon_dir: Path) -> None:
    line = _append(lexicon_dir / "patterns.tsv", "slow\tfees\t5\t(?:[0-9]+\\s*)+元")
    with pytest.raises(ValueError, match=rf"patterns\.tsv:{line}: .*nests unbounded repeats"):
        load_lexicon(lexicon_dir)


def test_every_problem_is_reported_not_just_the_first(lexicon_dir: Path) -> None:
    first = _append(lexicon_dir / "fees.tsv", "跑腿钱\tlots")
    second = _append(lexicon_dir / "structure.tsv", "gossip\t八卦")
    _, problems = check_lexicon(lexicon_dir)
    assert [(p.path.name, p.line) for p in problems] == [("fees.tsv", first), ("structure.tsv", second)]
    assert "unknown structure kind 'gossip'" in str(problems[1])
    with pytest.raises(LexiconError) as raised:
        load_lexicon(lexicon_dir)
    assert raised.value.problems == problems


def test_other_modules_data_files_are_hashed_not_parsed(lexicon_dir: Path) -> None:
    before = lexicon_version(lexicon_dir)
    (lexicon_dir / "some_other_module.tsv").write_text("anything\tat all\n", encoding="utf-8")
    assert load_lexicon(lexicon_dir).version == lexicon_version(lexicon_dir) != before


def test_structure_cues_and_kinds_are_loaded() -> None:
    lexicon = load_lexicon()
    kinds = {k.kind for k in lexicon.structure_kinds}
    assert kinds == {
        "news", "notice", "encyclopedia", "fiction", "howto", "official_hospital", "index", "complaint", "non_medical",
    }  # fmt: skip
    assert {c.kind for c in lexicon.structure_cues} == kinds
    assert [k.kind for k in lexicon.structure_kinds if k.absent] == ["non_medical"]
    assert any(c.regex is not None for c in lexicon.structure_cues)
