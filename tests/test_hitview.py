"""Explaining a hit: matched spans are marked where they are in the text and numbered after their reason."""

from __future__ import annotations

from crawler.hitview import marked_excerpts


def reason(text: str, word: str, rule: str) -> dict:
    start = text.index(word)
    return {"rule_id": rule, "text": word, "start": start, "end": start + len(word), "weight": 10.0}


def test_spans_are_marked_in_place_and_numbered() -> None:
    text = "瀚州专家号代挂，号满可加。\n联系微信 gh_01"
    reasons = [reason(text, "专家号", "service.专家号"), reason(text, "号满可加", "guarantee.号满可加"),
               {"rule_id": "domain.official", "text": "x.gov.cn", "start": -1, "end": -1, "weight": -60.0},
               reason(text, "gh_01", "contact.wechat")]  # fmt: skip
    assert marked_excerpts(text, reasons) == ["瀚州【专家号】¹代挂，【号满可加】²。 ⏎ 联系微信 【gh_01】⁴"]


def test_far_apart_matches_become_separate_excerpts_and_overlaps_are_dropped() -> None:
    text = "代挂号" + "。" * 200 + "加号" + "。" * 10
    reasons = [reason(text, "代挂号", "service.代挂号"), {"rule_id": "x", "text": "挂号", "start": 1, "end": 3,
               "weight": 1.0}, reason(text, "加号", "service.加号")]  # fmt: skip
    excerpts = marked_excerpts(text, reasons)
    assert len(excerpts) == 2
    assert excerpts[0].startswith("【代挂号】¹") and excerpts[0].endswith("…")
    assert excerpts[1].startswith("…") and "【加号】³" in excerpts[1]
    assert marked_excerpts(text, []) == []
