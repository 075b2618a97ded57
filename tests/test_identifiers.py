"""Registration numbers and phone-like contacts (keywords/identifiers.py): check characters, every identifier
variant (irregular spacing, full-width, Chinese numerals), landline and 400 extraction, the official-hotline
exclusion, and the evidence `IdentifierSignal` gives."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from keywords.identifiers import (
    IdentifierSignal,
    find_identifiers,
    find_phone_contacts,
    load_official_hotlines,
    normalise_phone,
    orgcode_valid,
    resident_id_valid,
    uscc_valid,
)
from keywords.normalisation import normalise
from keywords.result import Identifier
from keywords.signals import PageInput, SignalOutput

TODAY = date(2026, 6, 1)


def identifiers(text: str) -> list[Identifier]:
    return [f.identifier for f in find_identifiers(normalise(text), today=TODAY)]


def phones(text: str, hotlines: frozenset[str] = frozenset()) -> list[tuple[str, str, str]]:
    return [(p.kind, p.value, text[p.start : p.end]) for p in find_phone_contacts(normalise(text), hotlines=hotlines)]


def evaluate(text: str, **kwargs: object) -> SignalOutput:
    signal = IdentifierSignal(today=TODAY, **kwargs)  # type: ignore[arg-type]
    return signal.evaluate(PageInput(text), normalise(text))


def rules(output: SignalOutput) -> list[str]:
    return [r.rule_id for r in output.reasons]


# --- check characters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["91230184MA1BUFLT44", "92371000MA3MXH0E3W", "91110108772551611J", "911101085923662400", "12100000400000624D",
     "91110108772551611j", " 91110108772551611J "],
)  # fmt: skip
def test_valid_unified_social_credit_codes(code: str) -> None:
    assert uscc_valid(code)


@pytest.mark.parametrize(
    "code",
    [
        "91110108772551611K",  # wrong check character
        "91110108772551612J",  # a changed organisation-code check character changes the USCC check too
        "9111010877255161J",  # too short
        "91110108772551611JJ",  # too long
        "91110108772551O11J",  # O is not in the character set
        "9111A108772551611J",  # the region code must be digits
        "B1110108772551611J",  # B is no registration department
        "",
    ],
)
def test_invalid_unified_social_credit_codes(code: str) -> None:
    assert not uscc_valid(code)


def test_uscc_with_a_valid_check_character_but_a_broken_organisation_code_is_invalid() -> None:
    # 91110108 + organisation code 77255161-2 (its own check is 1) + the GB 32100 check character of that
    # prefix: the 18th character is right, the embedded organisation code is not.
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    prefix = "91110108772551612"
    total = sum(charset.index(ch) * pow(3, i, 31) for i, ch in enumerate(prefix))
    code = prefix + charset[(31 - total % 31) % 31]
    assert not orgcode_valid(prefix[8:])
    assert not uscc_valid(code)


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("77255161-1", True),  # from 91110108772551611J
        ("772551611", True),
        ("12345678-8", True),  # 3+14+27+40+25+48+28+16 = 201; 201 mod 11 = 3; 11 - 3 = 8
        ("40000000-X", True),  # 4*3 = 12; 12 mod 11 = 1; 11 - 1 = 10 -> X
        ("00000000-0", True),  # 0; 11 - 0 = 11 -> 0
        ("A0000000-3", True),  # A = 10; 30 mod 11 = 8; 11 - 8 = 3
        ("12345678-9", False),
        ("40000000-1", False),
        ("1234567-8", False),
        ("12345678-Y", False),
    ],
)
def test_organisation_codes(code: str, valid: bool) -> None:
    assert orgcode_valid(code) is valid


def test_resident_id_numbers() -> None:
    assert resident_id_valid("11010519491231002X")
    assert not resident_id_valid("110105194912310021")  # check digit
    assert not resident_id_valid("110105194913310024")  # month 13


# --- identifier variants ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value", "valid"),
    [
        ("京ICP备11041704号-5", "icp", "京ICP备11041704号-5", True),
        ("京ＩＣＰ备１１０４１７０４号－５", "icp", "京ICP备11041704号-5", True),
        ("备案号：粤 ICP 备 2021003158 号 - 1", "icp", "粤ICP备2021003158号-1", True),
        ("滇ICP备09010050-5号", "icp", "滇ICP备09010050号-5", True),
        ("蜀ICP备2026007879号-1", "icp", "蜀ICP备2026007879号-1", True),
        ("陇ICP备2021003158号-1", "icp", "陇ICP备2021003158号-1", True),
        ("黔ICP备123456号", "icp", "黔ICP备123456号", True),
        ("苏ICP备案号11234567", "icp", "苏ICP备11234567号", True),
        ("京icp备11041704号", "icp", "京ICP备11041704号", True),
        ("川ICP备12345678号", "icp", "川ICP备12345678号", False),  # ICP numbers use 蜀, never 川
        ("京ICP备2030123456号", "icp", "京ICP备2030123456号", False),  # a year after today
        ("京ICP备1234567号", "icp", "京ICP备1234567号", False),  # 7 digits: no such series
        ("瀚ICP备05002718号", "icp", "瀚ICP备05002718号", False),  # no such province
        ("京ICP证030173号", "icp_licence", "京ICP证030173号", True),
        ("京 ICP 证 ０３０１７３ 号", "icp_licence", "京ICP证030173号", True),
        ("京ICP证0301731号", "icp_licence", "京ICP证0301731号", False),
        ("京公网安备11000002000001号", "police_filing", "京公网安备11000002000001号", True),
        ("粤公网安备 44030502008569号", "police_filing", "粤公网安备44030502008569号", True),
        ("川公网安备：５１０１０７０２０４３１５１号", "police_filing", "川公网安备51010702043151号", True),
        ("京公网安备44030502008569号", "police_filing", "京公网安备44030502008569号", False),  # 44 is 粤
        ("(京)-经营性-2017-0020", "drug_info", "(京)-经营性-2017-0020", True),
        ("互联网药品信息服务资格证书：（粤）－非经营性－2015－0123", "drug_info", "(粤)-非经营性-2015-0123", True),
        ("（京）-经营性-2031-0020", "drug_info", "(京)-经营性-2031-0020", False),
        ("统一社会信用代码：91110108772551611J", "uscc", "91110108772551611J", True),
        ("统一社会信用代码 ９１１１０１０８７７２５５１６１１Ｊ", "uscc", "91110108772551611J", True),
        ("信用代码: 91110108772551611K", "uscc", "91110108772551611K", False),
        ("营业执照注册号 92371000MA3MXH0E3W", "uscc", "92371000MA3MXH0E3W", True),
        ("主办单位 911101085923662400 北京", "uscc", "911101085923662400", True),  # no cue but a valid code
    ],
)
def test_identifier_variants(text: str, kind: str, value: str, valid: bool) -> None:
    assert identifiers(f"页脚 {text} 版权所有") == [Identifier(kind, value, valid)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("(京)医广[2016]第0701035号", "(京)医广[2016]第0701035号"),
        ("（京）医广【2016】第07-01-0355号", "(京)医广[2016]第07-01-0355号"),
        ("(京) 医广【2018】第12-05-0977号", "(京)医广[2018]第12-05-0977号"),
        ("（成青） 医广【2019】第03-12-510105020号", "(成青)医广[2019]第03-12-510105020号"),
        ("(呼市)医广【2017】第01-03-02号", "(呼市)医广[2017]第01-03-02号"),
        ("（渝）医广[2015]（网络）第189号", "(渝)医广[2015]第189号"),
        ("鲁医广【2013】第0902-001-3711号", "(鲁)医广[2013]第0902-001-3711号"),
        ("鲁医广字【2013】第0902－001－3711号", "(鲁)医广[2013]第0902-001-3711号"),
        ("审查证明鲁中医广字【2013】第0902-001-3711号", "(鲁)中医广[2013]第0902-001-3711号"),
        ("（京）中医广〔2016〕第 07-01-0355 号", "(京)中医广[2016]第07-01-0355号"),
        ("（ 京 ） 医 广 ［ 2016 ］ 第 ０７０１０３５ 号", "(京)医广[2016]第0701035号"),
    ],
)
def test_ad_certificate_number_variants(text: str, value: str) -> None:
    found = identifiers(f"医疗广告审查证明文号：{text}。")
    assert [(i.kind, i.value) for i in found] == [("ad_cert", value)]


def test_ad_certificate_year_sanity_without_a_list() -> None:
    assert identifiers("(京)医广[2026]第0701035号") == [Identifier("ad_cert", "(京)医广[2026]第0701035号", None)]
    assert identifiers("(京)医广[2025]第0701035号") == [Identifier("ad_cert", "(京)医广[2025]第0701035号", None)]
    assert identifiers("(京)医广[2024]第0701035号") == [Identifier("ad_cert", "(京)医广[2024]第0701035号", False)]
    assert identifiers("(京)医广[2027]第0701035号") == [Identifier("ad_cert", "(京)医广[2027]第0701035号", False)]


def test_uscc_without_a_cue_needs_a_valid_check_and_is_never_an_id_number() -> None:
    assert identifiers("订单号 91110108772551611K 已发货") == []
    assert identifiers("身份证号 11010519491231002X") == []


def test_identifier_spans_point_into_the_original_text() -> None:
    text = "瀚州医院　京ＩＣＰ备１１０４１７０４号　统一社会信用代码：９１１１０１０８７７２５５１６１１Ｊ"
    found = find_identifiers(normalise(text), today=TODAY)
    assert [text[f.start : f.end] for f in found] == [
        "京ＩＣＰ备１１０４１７０４号",
        "９１１１０１０８７７２５５１６１１Ｊ",
    ]


# --- landlines and 400 numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value", "shown"),
    [
        ("电话：020-83848400", "landline", "020-83848400", "020-83848400"),
        ("电话：(0571)87236114", "landline", "0571-87236114", "(0571)87236114"),
        ("电话：（０２０）８３８４ ８４００", "landline", "020-83848400", "（０２０）８３８４ ８４００"),
        ("电话 0755 2345 6789", "landline", "0755-23456789", "0755 2345 6789"),
        ("总机 010-62345678转123 欢迎", "landline", "010-62345678", "010-62345678转123"),
        ("电话 0569-8701-2320", "landline", "0569-87012320", "0569-8701-2320"),
        ("电话 0351-7654321", "landline", "0351-7654321", "0351-7654321"),
        ("电话 零二零-八三八四八四零零", "landline", "020-83848400", "零二零-八三八四八四零零"),
        ("热线：400-688-3172", "tollfree", "4006883172", "400-688-3172"),
        ("热线：400 6883 172", "tollfree", "4006883172", "400 6883 172"),
        ("热线 ４００８２０８８２０", "tollfree", "4008208820", "４００８２０８８２０"),
        ("免费电话 800-820-8820", "tollfree", "8008208820", "800-820-8820"),
        ("TEL0571-87236114", "landline", "0571-87236114", "0571-87236114"),  # OCR drops the space
        ("Tel:4006883172", "tollfree", "4006883172", "4006883172"),
        ("热线 四零零六八八三一七二", "tollfree", "4006883172", "四零零六八八三一七二"),
    ],
)
def test_landline_and_tollfree_numbers(text: str, kind: str, value: str, shown: str) -> None:
    assert phones(text) == [(kind, value, shown)]


@pytest.mark.parametrize(
    "text",
    [
        "发布时间 2025-04-21 09:30",
        "瀚ICP备08001234号-1",  # an identifier that starts with 0
        "手机 13812345678",
        "服务费 400 元/次",
        "区号 0123-4567890",  # no area code starts 01 except 010
        "电话 020-1234567",  # subscriber numbers start 2-8
        "编号 020838484001234",  # one long number, not a phone
        "订单 A0571-87236114",  # glued to a letter
        "4001234",  # too short for a 400 number
    ],
)
def test_not_landlines(text: str) -> None:
    assert phones(text) == []
    assert "landline" not in rules(evaluate(text)) and "tollfree" not in rules(evaluate(text))


def test_numbers_inside_identifiers_are_not_contacts() -> None:
    output = evaluate("版权所有 京ICP备02012345678号")
    assert output.contacts == {"landline": [], "tollfree": []}


def test_official_hotlines_are_never_reported(tmp_path: Path) -> None:
    (tmp_path / "official_hotlines.txt").write_text(
        "# the hospital's own lines\n(0571)8723 6114\n400-688-3172  # booking line\n12320\n", encoding="utf-8"
    )
    hotlines = load_official_hotlines(tmp_path)
    assert hotlines == {"0571-87236114", "4006883172", "12320"}
    text = "预约电话：0571-87236114、400 688 3172，投诉 020-83848400，健康热线 12320"
    assert phones(text, hotlines) == [("landline", "020-83848400", "020-83848400")]
    output = evaluate(text, hotlines=hotlines)
    assert output.contacts == {"landline": ["020-83848400"], "tollfree": []}
    assert output.contact_sources == {"landline:020-83848400": "text"}


def test_bundled_hotlines_hold_the_booking_and_health_lines() -> None:
    hotlines = load_official_hotlines()
    assert {"114", "12320", "12345"} <= hotlines
    assert load_official_hotlines(Path("/nonexistent")) == hotlines  # falls back to the bundled file


def test_a_bad_hotline_line_names_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "official_hotlines.txt").write_text("114\n医院总机\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"official_hotlines.txt:2"):
        load_official_hotlines(tmp_path)


def test_normalise_phone() -> None:
    assert normalise_phone(" 020 8384 8400 ") == "020-83848400"
    assert normalise_phone("4006883172") == "4006883172"
    assert normalise_phone("１１４") == "114"
    assert normalise_phone("客服") is None


# --- evidence -----------------------------------------------------------------------------------------------


def test_a_400_number_on_a_page_presenting_itself_as_a_hospital_is_core_evidence() -> None:
    output = evaluate("瀚州博爱皮肤病医院 - 首页\n全国免费咨询热线：400-688-3172")
    assert rules(output) == ["contact.tollfree", "fake.tollfree_hospital"]
    fake = output.reasons[1]
    assert fake.kind == "core" and fake.categories == ("medical_tout",) and fake.weight > 0
    assert fake.text == "400-688-3172"
    assert output.contacts == {"landline": [], "tollfree": ["4006883172"]}


def test_a_400_number_elsewhere_is_only_a_contact() -> None:
    output = evaluate("瀚州家电维修 - 首页\n服务热线：400-688-3172")
    assert rules(output) == ["contact.tollfree"]
    assert output.reasons[0].kind == "contact" and output.reasons[0].categories == ()


def test_a_uscc_failing_its_check_is_core_evidence_of_a_fake() -> None:
    output = evaluate("瀚州协和医院\n统一社会信用代码：91110108772551611K")
    assert rules(output) == ["fake.uscc_invalid"]
    assert output.identifiers == (Identifier("uscc", "91110108772551611K", False),)


def test_a_sole_proprietor_code_on_a_hospital_page_is_core_evidence() -> None:
    assert rules(evaluate("瀚州协和医院\n统一社会信用代码：92371000MA3MXH0E3W")) == ["fake.uscc_individual_hospital"]
    assert rules(evaluate("老王水果店\n统一社会信用代码：92371000MA3MXH0E3W")) == []


def test_reason_spans_match_the_original_text() -> None:
    text = "瀚州博爱医院\n热线：４００－６８８－３１７２ 电话（０２０）８３８４８４００\n信用代码：91110108772551611K"
    for reason in evaluate(text).reasons:
        assert reason.start >= 0 and text[reason.start : reason.end] == reason.text


def test_every_identifier_is_reported_once() -> None:
    output = evaluate("京ICP备11041704号-5 …… 京ICP备11041704号-5 京公网安备11000002000001号")
    assert output.identifiers == (
        Identifier("icp", "京ICP备11041704号-5", True),
        Identifier("police_filing", "京公网安备11000002000001号", True),
    )


def test_empty_and_hostile_text() -> None:
    assert evaluate("") == SignalOutput(contacts={"landline": [], "tollfree": []})
    evaluate("0" * 100_000 + "医广[" * 1000 + "ICP备" * 1000)
