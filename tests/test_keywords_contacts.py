"""Tests for keywords.contacts: mobile numbers, WeChat IDs and QQ numbers, with original positions."""

from __future__ import annotations

import pytest

from keywords.contacts import CONTACT_KINDS, Contact, contacts_by_kind, extract_contacts
from keywords.normalisation import normalise


def _found(text: str) -> list[tuple[str, str, str]]:
    """(kind, value, original text of the span) for every contact in ``text``."""
    return [(c.kind, c.value, text[c.start : c.end]) for c in extract_contacts(normalise(text))]


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("电话13812345678", "13812345678"),
        ("电话 138 1234 5678 找王师傅", "138 1234 5678"),
        ("电话：138-1234-5678", "138-1234-5678"),
        ("１３８－１２３４－５６７８", "１３８－１２３４－５６７８"),
        ("①③⑧-1234-5678", "①③⑧-1234-5678"),
        ("电话幺三八 一二三四 五六七八", "幺三八 一二三四 五六七八"),
        ("电话壹叁捌壹贰叁肆伍陆柒捌", "壹叁捌壹贰叁肆伍陆柒捌"),
        ("电话：\n138\n1234\n5678\n", "138\n1234\n5678"),
        ("+86 138-1234-5678", "138-1234-5678"),
        ("8613812345678", "13812345678"),
        ("138\u200b1234\u200b5678", "138\u200b1234\u200b5678"),
    ],
)
def test_mobile_numbers_in_many_spellings(text: str, raw: str) -> None:
    assert _found(text) == [("mobile", "13812345678", raw)]


@pytest.mark.parametrize(
    "text",
    [
        "联系电话：020-83421234",  # landline
        "12345678901",  # 12x is not a mobile prefix
        "15412345678",  # 154 is not issued
        "身份证号110101199003071234",  # digits inside a longer number
        "1381234567",  # ten digits
        "138123456789",  # twelve digits
        "138 **** 5678",  # masked, as news reports print them
        "门票售价180元，共1200张",
    ],
)
def test_non_mobiles_are_not_extracted(text: str) -> None:
    assert [c for c in _found(text) if c[0] == "mobile"] == []


@pytest.mark.parametrize(
    ("text", "value", "raw"),
    [
        ("微信：zhang_san88", "zhang_san88", "zhang_san88"),
        ("vx：Dgh_2024", "dgh_2024", "Dgh_2024"),
        ("ＶＸ：ｄａｉｇｕａｈａｏ８８", "daiguahao88", "ｄａｉｇｕａｈａｏ８８"),
        ("加V：bjgh-kefu", "bjgh-kefu", "bjgh-kefu"),
        ("➕v：zhang-san8", "zhang-san8", "zhang-san8"),
        ("+V abc_123", "abc_123", "abc_123"),
        ("薇信号 hello_world", "hello_world", "hello_world"),
        ("V 信 ： guahao_bj88", "guahao_bj88", "guahao_bj88"),
        ("绿泡泡：bj-jiuyi-01", "bj-jiuyi-01", "bj-jiuyi-01"),
        ("加微信 xh_guahao 详聊", "xh_guahao", "xh_guahao"),
    ],
)
def test_wechat_ids_after_a_cue(text: str, value: str, raw: str) -> None:
    assert _found(text) == [("wechat", value, raw)]


@pytest.mark.parametrize(
    "text",
    [
        "微信 hello",  # too short for an ID
        "abc_guahao",  # no cue
        "关注微信公众号获取更多资讯",  # cue but no ID
        "下载vxworks",  # "vx" inside a word
        "威信县人口统计",
    ],
)
def test_no_wechat_without_cue_and_id(text: str) -> None:
    assert [c for c in _found(text) if c[0] == "wechat"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("QQ：\n3094417726\n详细描述", [("qq", "3094417726", "3094417726")]),
        ("微信：\nbaoai_zhuli\n", [("wechat", "baoai_zhuli", "baoai_zhuli")]),
        ("客服微信号：  \n  Kefu_2024  ", [("wechat", "kefu_2024", "Kefu_2024")]),
        ("扣扣\n2203918476", [("qq", "2203918476", "2203918476")]),
        (
            "微信：\n137 1234 5678",
            [("mobile", "13712345678", "137 1234 5678"), ("wechat", "13712345678", "137 1234 5678")],
        ),
    ],
)
def test_label_above_value_as_in_a_flattened_table(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "关注我们的微信：\nhealth_news 每周推送就医指南",  # the next line is a sentence, not an ID alone
        "欢迎加微信咨询\nabc_123456",  # the cue does not end its line
        "QQ：\n\n3094417726",  # a blank line between label and value
        "QQ登录\n3094417726",
    ],
)
def test_label_above_value_needs_cue_at_line_end_and_value_alone(text: str) -> None:
    assert [c for c in _found(text) if c[0] in ("wechat", "qq")] == []


def test_phone_number_after_wechat_cue_is_both_wechat_and_mobile() -> None:
    text = "电话（微信同号）：137 1234 5678"
    assert _found(text) == [
        ("mobile", "13712345678", "137 1234 5678"),
        ("wechat", "13712345678", "137 1234 5678"),
    ]


@pytest.mark.parametrize(
    ("text", "value", "raw"),
    [
        ("QQ：12345678", "12345678", "12345678"),
        ("qq 384756192", "384756192", "384756192"),
        ("扣扣：二三四五六七八九", "23456789", "二三四五六七八九"),
        ("企鹅号 987654321", "987654321", "987654321"),
        ("Q号:55667788", "55667788", "55667788"),
        ("qq群：123456", "123456", "123456"),
    ],
)
def test_qq_numbers_after_a_cue(text: str, value: str, raw: str) -> None:
    assert _found(text) == [("qq", value, raw)]


@pytest.mark.parametrize("text", ["编号 12345678", "qqabc 123456", "QQ：0123456", "QQ：1234"])
def test_no_qq_without_cue_or_with_invalid_number(text: str) -> None:
    assert [c for c in _found(text) if c[0] == "qq"] == []


def test_positions_point_into_the_original_text() -> None:
    text = "【代挂号】\u200b电话：①③⑧ ⑤⑥⑦⑧ ⑨⓪①②；Ｖ信：Ａｂｃ＿１２３；扣扣 幺二三四五六七"
    contacts = extract_contacts(normalise(text))
    assert [(c.kind, c.value) for c in contacts] == [
        ("mobile", "13856789012"),
        ("wechat", "abc_123"),
        ("qq", "1234567"),
    ]
    assert [text[c.start : c.end] for c in contacts] == ["①③⑧ ⑤⑥⑦⑧ ⑨⓪①②", "Ａｂｃ＿１２３", "幺二三四五六七"]


def test_contacts_by_kind_has_every_kind_sorted_and_unique() -> None:
    contacts = [
        Contact("mobile", "13912345678", 0, 11),
        Contact("mobile", "13812345678", 20, 31),
        Contact("mobile", "13912345678", 40, 51),
    ]
    assert contacts_by_kind(contacts) == {"mobile": ["13812345678", "13912345678"], "wechat": [], "qq": []}
    assert list(contacts_by_kind([])) == list(CONTACT_KINDS)
