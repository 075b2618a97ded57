"""Tests for block co-occurrence (``combo.*``) and page-structure discounts (``structure.*``) in the scorer."""

from __future__ import annotations

import pytest

from keywords import Scorer, ScoreResult, load_scorer
from keywords.scorer import COMBOS


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def _weights(result: ScoreResult) -> dict[str, float]:
    return {r.rule_id: r.weight for r in result.reasons}


COMBO_WEIGHT = {c.name: c.weight for c in COMBOS}


def test_service_and_contact_in_one_block_is_a_combination(scorer: Scorer) -> None:
    result = scorer.score("北京专家号代挂，电话13812345678")
    assert _weights(result)["combo.service_contact"] == COMBO_WEIGHT["service_contact"]
    combo = next(r for r in result.reasons if r.rule_id == "combo.service_contact")
    assert combo.text == "专家号"  # placed on the anchor


def test_adjacent_blocks_combine_but_scattered_terms_do_not(scorer: Scorer) -> None:
    adjacent = scorer.score("专家号当天出\n联系电话13812345678")
    assert "combo.service_contact" in _weights(adjacent)
    filler = "\n".join(["医院环境很好，停车方便。"] * 5)
    scattered = scorer.score(f"专家号当天出\n{filler}\n联系电话13812345678")
    assert "combo.service_contact" not in _weights(scattered)
    assert scattered.score < adjacent.score


def test_each_combination_counts_once_per_page(scorer: Scorer) -> None:
    result = scorer.score("代挂号 13812345678\n代挂号 13912345678\n代挂号 13712345678")
    assert [r.rule_id for r in result.reasons].count("combo.service_contact") == 1


def test_peizhen_alone_is_low_and_with_slot_claims_high(scorer: Scorer) -> None:
    alone = scorer.score("专业陪诊师，全程陪同就医，帮忙取报告")
    assert alone.score < 20 and not alone.hit
    slots = scorer.score("专业陪诊师，协和专家号可以安排，服务费500元，私聊")
    assert "combo.disguise_slot" in _weights(slots)
    assert slots.hit and slots.category == "scalper_service"


def test_a_question_offers_nothing(scorer: Scorer) -> None:
    asked = scorer.score("请问专家号约满了也能加号吗？")
    assert not any(r.rule_id.startswith("combo.") for r in asked.reasons)


def test_news_structure_discounts_positive_evidence(scorer: Scorer) -> None:
    offer = "专家号代挂，号满可加，服务费500元"
    report = f"本报讯（记者 王明 通讯员 李华）据报道，有人在网上发布“{offer}”等信息。"
    result = scorer.score(report)
    structure = next(r for r in result.reasons if r.rule_id == "structure.news")
    positive = sum(r.weight for r in result.reasons if r.weight > 0)
    assert structure.weight == pytest.approx(-0.5 * positive, abs=0.01)
    assert report[structure.start : structure.end] == structure.text
    assert not result.hit


def test_one_cue_is_not_a_structure(scorer: Scorer) -> None:
    result = scorer.score("记者：专家号代挂，号满可加，服务费500元，电话13812345678")
    assert not any(r.rule_id.startswith("structure.") for r in result.reasons)


def test_regex_cues_count_towards_a_structure(scorer: Scorer) -> None:
    text = "第三章 夜班\n他在医院门口看见一张卡片：专家号代挂，号满可加，服务费五百，加v私聊\n上一章 下一章"
    result = scorer.score(text)
    assert "structure.fiction" in _weights(result)


def test_structure_is_not_looked_for_without_positive_evidence(scorer: Scorer) -> None:
    result = scorer.score("本报讯 记者 通讯员 今天天气很好")
    assert not any(r.rule_id.startswith("structure.") for r in result.reasons)
    # nor where all the positive evidence together could not make a hit
    weak = scorer.score("本报讯 记者 通讯员 今天有专家号")
    assert not any(r.rule_id.startswith("structure.") for r in weak.reasons)
