"""Tests for keywords.normalisation: skeleton and digits views and their offset maps."""

from __future__ import annotations

import dataclasses

import pytest

from keywords import NormalisedText, normalise
from keywords import normalisation as normalise_module


def _assert_maps_consistent(n: NormalisedText) -> None:
    """Every view character must come from the original character its map points at."""
    assert len(n.skeleton) == len(n.skeleton_map)
    assert len(n.digits) == len(n.digits_map)
    assert list(n.skeleton_map) == sorted(n.skeleton_map)
    assert list(n.digits_map) == sorted(n.digits_map)
    for view_map in (n.skeleton_map, n.digits_map):
        assert all(0 <= i < len(n.original) for i in view_map)


@pytest.mark.parametrize(
    "text",
    ["代挂号", "代 挂 号", "代@挂#号", "代\u200b挂号", "代掛號", "代\u202e挂\ufeff号", "代，挂。号！", "代\t挂\n号"],
)
def test_evasive_spellings_share_one_skeleton(text: str) -> None:
    n = normalise(text)
    assert n.skeleton == "代挂号"
    _assert_maps_consistent(n)


def test_full_width_and_case_fold_to_lower_ascii() -> None:
    n = normalise("ＶＸ：Ａｂｃ１２３")
    assert n.skeleton == "vxabc123"
    assert n.digits == "vx:abc123"


def test_circled_super_and_subscript_digits_become_ascii() -> None:
    assert normalise("①③⑧").skeleton == "138"
    assert normalise("x⁹₈").skeleton == "x98"
    # NFKC leaves dingbat circled digits alone; their Unicode digit value is used instead.
    assert normalise("⓿➃❸").skeleton == "043"


def test_multi_char_nfkc_expansion_maps_every_char_to_its_source() -> None:
    n = normalise("a⑸b")  # ⑸ is NFKC "(5)"
    assert n.digits == "a(5)b"
    assert n.digits_map == (0, 1, 1, 1, 2)
    assert n.skeleton == "a5b"
    assert n.skeleton_map == (0, 1, 2)


def test_zero_width_and_bidi_characters_are_dropped_from_every_view() -> None:
    text = "a\u200bb\u200fc\u202ad\u2061e\u2067f\u180eg\ufeffh"
    n = normalise(text)
    assert n.skeleton == "abcdefgh"
    assert n.digits == "abcdefgh"
    _assert_maps_consistent(n)


def test_traditional_is_converted_to_simplified() -> None:
    assert normalise("專家號，號販子").skeleton == "专家号号贩子"


def test_span_maps_back_to_original_including_removed_characters() -> None:
    text = "请找 代@挂#号 服务"
    n = normalise(text)
    s = n.skeleton.index("代挂号")
    start, end = n.skeleton_span(s, s + 3)
    assert text[start:end] == "代@挂#号"


def test_span_maps_back_through_traditional_and_full_width() -> None:
    text = "電話：１３８－１２３４－５６７８"
    n = normalise(text)
    s = n.digits.index("138")
    start, end = n.digits_span(s, s + len("138-1234-5678"))
    assert text[start:end] == "１３８－１２３４－５６７８"


def test_digits_view_keeps_separators() -> None:
    n = normalise("电话: 138 1234-5678")
    assert n.digits == "电话: 138 1234-5678"
    assert n.skeleton == "电话13812345678"


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("幺三八 一二三四 五六七八", "138 1234 5678"),
        ("壹叁捌壹贰叁肆伍陆柒捌", "13812345678"),
        ("拐洞勾两幺", "70921"),
        ("138一二三四5678", "13812345678"),
        ("扣扣：三四五六七八九", "扣扣:3456789"),
    ],
)
def test_chinese_and_phone_speak_digits_map_inside_number_runs(text: str, digits: str) -> None:
    assert normalise(text).digits == digits


@pytest.mark.parametrize("text", ["一条龙服务", "两个号", "四五个人", "第一二三章", "二〇二四年"])
def test_chinese_numerals_outside_number_runs_stay_text(text: str) -> None:
    n = normalise(text)
    assert n.digits == text


def test_ten_is_not_a_phone_digit() -> None:
    assert normalise("一二十三四五").digits == "一二十三四五"


def test_skeleton_keeps_chinese_numerals() -> None:
    # Terms such as 一条龙 must still match in the skeleton after a phone number nearby.
    n = normalise("一条龙，电话幺三八一二三四五六七八")
    assert n.skeleton.startswith("一条龙")
    assert "幺三八" in n.skeleton


def test_lone_surrogates_and_control_characters_are_dropped() -> None:
    text = "代挂号\udcff专家号\x00！"
    n = normalise(text)
    assert n.skeleton == "代挂号专家号"
    assert "\udcff" not in n.digits
    _assert_maps_consistent(n)


def test_empty_and_symbol_only_text() -> None:
    assert normalise("").skeleton == ""
    n = normalise("，。！@#￥%……&*（）——  ")
    assert n.skeleton == ""
    assert n.skeleton_map == ()


def test_normalised_text_is_frozen() -> None:
    n = normalise("代挂号")
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.skeleton = "x"  # type: ignore[misc]


def test_t2s_length_change_falls_back_per_character(monkeypatch: pytest.MonkeyPatch) -> None:
    """If OpenCC ever changes the length of a conversion, offsets must stay exact."""

    def fake_convert(text: str) -> str:
        return text.replace("號", "号").replace("掛", "挂").replace("ｘ", "xx").replace("x", "xx")

    monkeypatch.setattr(normalise_module, "_convert_t2s", fake_convert)
    text = "第一行\n代掛號x服务"
    n = normalise(text)
    assert n.skeleton == "第一行代挂号xx服务"
    s = n.skeleton.index("xx")
    assert n.skeleton_map[s] == n.skeleton_map[s + 1] == text.index("x")
    _assert_maps_consistent(n)


def test_every_skeleton_char_comes_from_its_mapped_source() -> None:
    text = "【代掛號】Ｖ信：ＡＢＣ_１２３ ①③⑧ 幺三八一二三四五六七八\u200b！⑸"
    n = normalise(text)
    for ch, idx in zip(n.skeleton, n.skeleton_map, strict=True):
        assert ch in normalise(text[idx]).skeleton
    _assert_maps_consistent(n)
