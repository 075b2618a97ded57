"""Tests for keywords.scorer: labelled examples, the golden file, the public API and the formula."""

from __future__ import annotations

import difflib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from keywords import Reason, Scorer, ScoreResult, lexicon_version, load_scorer
from keywords.lexicon import DEFAULT_LEXICON_DIR
from keywords.scorer import DISCLAIMER_FACTOR, HALF_SATURATION, QUOTED_CONTEXT, QUOTED_FACTOR, REPEAT_FACTOR

FIXTURE = Path(__file__).parent / "fixtures" / "scoring" / "labelled.jsonl"
GOLDEN = Path(__file__).parent / "golden" / "scoring" / "labelled.json"
CATEGORIES = {None, "scalper_service", "medical_tout", "illegal_medical_ad"}


def _load_examples() -> list[dict[str, Any]]:
    with FIXTURE.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


EXAMPLES = _load_examples()


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def _score(scorer: Scorer, example: dict[str, Any]) -> ScoreResult:
    return scorer.score(example["text"], url=example.get("url"))


def test_labelled_set_is_well_formed() -> None:
    assert len(EXAMPLES) >= 40
    ids = [e["id"] for e in EXAMPLES]
    assert len(ids) == len(set(ids))
    for example in EXAMPLES:
        assert set(example) <= {"id", "text", "url", "hit", "category", "note"}
        assert isinstance(example["hit"], bool)
        assert example["category"] in CATEGORIES
        assert example["note"]
    assert sum(e["hit"] for e in EXAMPLES) >= 15
    assert sum(not e["hit"] for e in EXAMPLES) >= 15
    assert {e["category"] for e in EXAMPLES if e["hit"]} == CATEGORIES - {None}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_labelled_example(scorer: Scorer, example: dict[str, Any]) -> None:
    result = _score(scorer, example)
    assert (result.hit, result.category) == (example["hit"], example["category"]), result.to_dict()


def _golden_entry(result: ScoreResult) -> dict[str, Any]:
    # The lexicon version changes with every data file, including other modules' (hospital names); the golden
    # file records the scores, and the version is checked on its own (test_result_api_shape).
    return {**result.to_dict(), "lexicon_version": "<current>"}


def test_golden_file(scorer: Scorer) -> None:
    actual = {e["id"]: _golden_entry(_score(scorer, e)) for e in EXAMPLES}
    actual_text = json.dumps(actual, ensure_ascii=False, indent=1) + "\n"
    if os.environ.get("TOUTHUNT_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(actual_text, encoding="utf-8")
    expected_text = GOLDEN.read_text(encoding="utf-8")
    if actual_text != expected_text:
        diff = difflib.unified_diff(
            expected_text.splitlines(), actual_text.splitlines(), "golden", "actual", lineterm="", n=2
        )
        pytest.fail(
            "scores differ from the golden file (rerun with TOUTHUNT_UPDATE_GOLDEN=1 if intended):\n"
            + "\n".join(list(diff)[:200])
        )


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_every_point_is_traceable_to_reasons(scorer: Scorer, example: dict[str, Any]) -> None:
    result = _score(scorer, example)
    raw = max(0.0, sum(r.weight for r in result.reasons))
    assert result.score == int(100 * raw / (raw + HALF_SATURATION) + 0.5)
    assert 0 <= result.score <= 100
    assert result.hit == (result.score >= 50)
    if result.score == 0:
        assert result.category is None


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_reasons_point_into_the_original_text(scorer: Scorer, example: dict[str, Any]) -> None:
    text = example["text"]
    result = _score(scorer, example)
    starts = [r.start for r in result.reasons]
    assert starts == sorted(starts)
    for reason in result.reasons:
        if reason.start == -1:
            assert reason.end == -1
            assert reason.rule_id in {"domain.official", "structure.non_medical"}
        else:
            assert 0 <= reason.start < reason.end <= len(text)
            assert reason.text == text[reason.start : reason.end]


def test_result_api_shape(scorer: Scorer) -> None:
    text = "代挂号，专家号当天可挂，服务费500元，加V：dgh_2024，电话13812345678，QQ：12345678"
    result = scorer.score(text)
    assert isinstance(result, ScoreResult)
    assert all(isinstance(r, Reason) for r in result.reasons)
    assert result.hit and result.category == "scalper_service"
    assert result.contacts == {"mobile": ["13812345678"], "wechat": ["dgh_2024"], "qq": ["12345678"]}
    assert result.lexicon_version == lexicon_version() == scorer.lexicon_version
    as_dict = result.to_dict()
    assert json.loads(json.dumps(as_dict, ensure_ascii=False)) == as_dict
    assert list(as_dict) == [
        "score", "hit", "category", "reasons", "contacts", "contact_sources", "identifiers", "lexicon_version",
    ]  # fmt: skip
    assert next(r for r in as_dict["reasons"] if r["rule_id"] == "service.代挂号") == {
        "rule_id": "service.代挂号",
        "text": "代挂号",
        "start": 0,
        "end": 3,
        "weight": 30.0,
    }
    with pytest.raises(AttributeError):
        result.score = 0  # type: ignore[misc]


def test_empty_and_unrelated_text(scorer: Scorer) -> None:
    for text in ["", "   ", "今天天气很好，适合去公园散步。"]:
        result = scorer.score(text)
        assert (result.score, result.hit, result.category, result.reasons) == (0, False, None, ())
        assert result.contacts == {"mobile": [], "wechat": [], "qq": []}


def test_each_rule_counts_once_with_small_repeat_bonus(scorer: Scorer) -> None:
    once = scorer.score("代挂号")
    many = scorer.score("代挂号 代挂号 代挂号 代挂号 代挂号 代挂号")
    assert [r.weight for r in once.reasons] == [30.0]
    assert [r.weight for r in many.reasons] == [30.0, 3.0, 3.0, 3.0]
    assert many.score - once.score < 10


def test_support_terms_are_weak_alone_and_strong_with_service(scorer: Scorer) -> None:
    support = "陪诊，服务费，发身份证，私聊"
    alone = scorer.score(support)
    together = scorer.score("代挂号，" + support)
    assert alone.score < 30 and not alone.hit
    weights_alone = {r.rule_id: r.weight for r in alone.reasons}
    weights_together = {r.rule_id: r.weight for r in together.reasons}
    for rule_id in ("disguise.陪诊", "fees.服务费", "identity.发身份证", "cta.私聊"):
        assert weights_together[rule_id] > weights_alone[rule_id] > 0
    assert together.hit


def test_contacts_weigh_only_with_positive_evidence(scorer: Scorer) -> None:
    bare = scorer.score("联系电话13812345678")
    assert bare.contacts["mobile"] == ["13812345678"]
    assert [(r.rule_id, r.weight) for r in bare.reasons] == [("contact.mobile", 0.0)]
    assert bare.score == 0 and bare.category is None
    offer = scorer.score("代挂号，联系电话13812345678")
    assert ("contact.mobile", 12.0) in [(r.rule_id, r.weight) for r in offer.reasons]
    assert offer.score > scorer.score("代挂号").score


def test_wechat_equal_to_mobile_is_not_counted_twice(scorer: Scorer) -> None:
    result = scorer.score("代挂号，电话（微信同号）13812345678")
    weights = {r.rule_id: r.weight for r in result.reasons}
    assert weights["contact.mobile"] == 12.0
    assert weights["contact.wechat"] == 0.0


def test_benign_context_subtracts(scorer: Scorer) -> None:
    offer = "代挂号，专家号当天可挂"
    assert scorer.score(offer).hit
    warned = scorer.score("警方提醒：谨防号贩子。" + offer)
    assert not warned.hit
    assert any(r.rule_id == "context.谨防" and r.weight < 0 for r in warned.reasons)


def test_quoted_evidence_is_discounted_only_on_context_pages(scorer: Scorer) -> None:
    quoted = scorer.score("他们的广告“代挂号，号满可加”")
    assert [r.rule_id for r in quoted.reasons if not r.rule_id.startswith("combo.")] == [
        "service.代挂号",
        "guarantee.号满可加",
    ]
    reported = scorer.score("记者调查：号贩子的广告“代挂号，号满可加”")
    weights = {r.rule_id: r.weight for r in reported.reasons}
    assert weights["quoted.service.代挂号"] == 15.0
    assert weights["quoted.guarantee.号满可加"] == 12.5


def test_negated_core_term_is_a_disclaimer(scorer: Scorer) -> None:
    result = scorer.score("陪诊服务，本平台不代挂号")
    assert ("negated.service.代挂号", -30.0 * DISCLAIMER_FACTOR) in [(r.rule_id, r.weight) for r in result.reasons]
    assert result.score == 0 and not result.hit


def test_negated_support_term_weighs_nothing(scorer: Scorer) -> None:
    result = scorer.score("代挂号，本院免收服务费")
    assert ("negated.fees.服务费", 0.0) in [(r.rule_id, r.weight) for r in result.reasons]


def test_a_disclaimer_does_not_outweigh_an_offer(scorer: Scorer) -> None:
    result = scorer.score("不代挂号！专家号号满可加，服务费500元，微信 pz_helper88")
    weights = {r.rule_id: r.weight for r in result.reasons}
    assert weights["negated.service.代挂号"] < 0
    assert result.hit and result.category == "scalper_service"


def test_negated_and_plain_occurrences_share_one_repeat_sequence(scorer: Scorer) -> None:
    # The page disclaims 加号 first; a later mention of 加号 is a repeat, not a fresh full-weight term.
    result = scorer.score("我们不承诺加号。凡是声称能加号的都不是我们的员工。")
    assert [(r.rule_id, r.weight) for r in result.reasons if r.rule_id.endswith("加号")] == [
        ("negated.service.加号", round(-12.0 * DISCLAIMER_FACTOR, 2)),
        ("service.加号", round(12.0 * REPEAT_FACTOR, 2)),
    ]


def test_disclaimers_count_as_benign_context_for_quotations(scorer: Scorer) -> None:
    # No context term, but three disclaimers reach QUOTED_CONTEXT: the quoted claim is discounted.
    text = "本店不代挂号、不抢号、不加号。网上说的“保证挂上”都是假的"
    result = scorer.score(text)
    assert sum(r.weight for r in result.reasons if r.rule_id.startswith("negated.")) <= QUOTED_CONTEXT
    assert ("quoted.guarantee.保证挂上", 25.0 * QUOTED_FACTOR) in [(r.rule_id, r.weight) for r in result.reasons]


@pytest.mark.parametrize(
    ("url", "official"),
    [
        ("https://www.nhc.gov.cn/yzygj/notice.html", True),
        ("https://wsjkw.gd.gov.cn/", True),
        ("HTTPS://WWW.HUASHAN.ORG.CN/yygh", True),
        ("https://www.haodf.com/doctor/1.html", True),
        ("http://bjguahao.net.cn/", False),  # look-alike of an official platform
        ("https://gov.cn.example.com/", False),
        ("http://127.0.0.1:8000/page", False),
        ("not a url", False),
    ],
)
def test_official_domain_allow_list(scorer: Scorer, url: str, official: bool) -> None:
    text = "专家号代约，当天可挂"
    result = scorer.score(text, url=url)
    domain = [r for r in result.reasons if r.rule_id == "domain.official"]
    assert bool(domain) is official
    if official:
        assert domain[0].weight < 0 and (domain[0].start, domain[0].end) == (-1, -1)
        assert result.score < scorer.score(text).score


def test_hit_threshold_is_configurable(scorer: Scorer) -> None:
    text = "代挂号"
    assert not scorer.score(text).hit
    lenient = Scorer(scorer.lexicon, hit_threshold=30)
    assert lenient.score(text).hit
    with pytest.raises(ValueError, match="hit_threshold"):
        Scorer(scorer.lexicon, hit_threshold=101)


def test_category_follows_the_heaviest_group(scorer: Scorer) -> None:
    assert scorer.score("专家助理免费咨询，祖传秘方包治百病").category == "medical_tout"
    assert scorer.score("治愈率98%，永不复发，最先进技术").category == "illegal_medical_ad"
    assert scorer.score("代挂号，号满可加").category == "scalper_service"


def test_cure_promises_vote_for_tout_and_ad_alike(scorer: Scorer) -> None:
    # Only shared miracle-cure promises: a tie between the two; without a tout's funnel they are ad copy.
    assert scorer.score("祖传秘方，药到病除，无效退款").category == "illegal_medical_ad"
    # The same promises with ad copy (rates, testimonials) are an illegal ad ...
    assert scorer.score("祖传秘方，药到病除，无效退款，有效率99%，患者见证").category == "illegal_medical_ad"
    # ... and with a fake assistant's funnel a tout.
    assert scorer.score("祖传秘方，药到病除，无效退款，加专家助理免费咨询").category == "medical_tout"


def test_scoring_is_deterministic(scorer: Scorer) -> None:
    example = EXAMPLES[0]
    assert _score(scorer, example) == _score(scorer, example)


def test_load_scorer_from_a_custom_lexicon_dir(tmp_path: Path) -> None:
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_LEXICON_DIR, target)
    with (target / "service.tsv").open("a", encoding="utf-8") as handle:
        handle.write("代抢门诊号\t40\n")
    custom = load_scorer(target)
    result = custom.score("代抢门诊号")
    assert [r.rule_id for r in result.reasons] == ["service.代抢门诊号"]
    assert result.lexicon_version == lexicon_version(target) != lexicon_version()
