"""Medical ads and their 医疗广告审查证明: the approved list (keywords/adcerts.py, storage/adcerts.py), the
analyst's CSV and the ``certs`` commands (crawler/certs_cli.py), and the missing / unknown / expired evidence of
`IdentifierSignal`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from crawler.certs_cli import certs, parse_date, read_certificates_csv
from crawler.errors import TouthuntError
from keywords.adcerts import AdCertificate, AdCertificates
from keywords.identifiers import IdentifierSignal, load_medical_ad_cues, normalise_ad_cert_number
from keywords.normalisation import normalise
from keywords.result import Identifier
from keywords.signals import PageInput, SignalOutput
from storage.adcerts import list_certificates, load_certificates, upsert_certificates

TODAY = date(2026, 6, 1)

AD = "瀚州博爱皮肤病医院\n专家坐诊，特色疗法，疗效显著，现在预约享受优惠。\n咨询热线：0569-86012345\n"
LISTED = AdCertificates(
    [
        AdCertificate("（瀚）医广【2026】第03-01-0012号", "瀚州博爱皮肤病医院", date(2026, 3, 1), date(2027, 2, 28)),
        AdCertificate("(瀚)医广[2025]第05-02-0031号", "瀚州美好口腔门诊部", date(2025, 5, 2), date(2026, 5, 1)),
    ]
)


def evaluate(text: str, certificates: AdCertificates | None = None) -> SignalOutput:
    return IdentifierSignal(certificates=certificates, today=TODAY).evaluate(PageInput(text), normalise(text))


def adcert_rules(output: SignalOutput) -> list[str]:
    return [r.rule_id for r in output.reasons if r.rule_id.startswith("adcert.")]


def ad_certs(output: SignalOutput) -> list[Identifier]:
    return [i for i in output.identifiers if i.kind == "ad_cert"]


# --- the list -----------------------------------------------------------------------------------------------


def test_certificates_are_found_by_any_spelling_of_their_number() -> None:
    assert len(LISTED) == 2
    found = LISTED.get("(瀚) 医广[2026] 第03－01－0012号")
    assert found is not None and found.institution == "瀚州博爱皮肤病医院"
    assert "(瀚)医广[2025]第05-02-0031号" in LISTED
    assert LISTED.get("(瀚)医广[2026]第03-01-0013号") is None
    assert [c.institution for c in LISTED] == ["瀚州博爱皮肤病医院", "瀚州美好口腔门诊部"]


def test_certificate_status() -> None:
    certificate = AdCertificate("x", "", date(2026, 3, 1), date(2027, 2, 28))
    assert certificate.status(date(2026, 2, 28)) == "not_yet_valid"
    assert certificate.status(date(2027, 2, 28)) == "valid"
    assert certificate.status(date(2027, 3, 1)) == "expired" and certificate.expired(date(2027, 3, 1))
    assert AdCertificate("x").status(TODAY) == "valid"


def test_from_rows() -> None:
    certificates = AdCertificates.from_rows([("鲁医广【2026】第0902-001-3711号", "", None, date(2027, 1, 1))])
    assert normalise_ad_cert_number("(鲁)医广[2026]第0902-001-3711号") in certificates


# --- missing, unknown, expired ------------------------------------------------------------------------------


def test_a_medical_ad_without_a_certificate_number_is_missing() -> None:
    for certificates in (None, AdCertificates(), LISTED):
        output = evaluate(AD, certificates)
        assert adcert_rules(output) == ["adcert.missing"]
        reason = next(r for r in output.reasons if r.rule_id == "adcert.missing")
        assert reason.kind == "core" and reason.categories == ("illegal_medical_ad",) and reason.weight > 0
        assert reason.start == reason.end == -1 and "医院" in reason.text and "专家坐诊" in reason.text


def test_a_listed_valid_certificate_is_in_order() -> None:
    output = evaluate(AD + "医疗广告审查证明文号：（瀚）医广【2026】第03-01-0012号", LISTED)
    assert adcert_rules(output) == []
    assert ad_certs(output) == [Identifier("ad_cert", "(瀚)医广[2026]第03-01-0012号", True)]


def test_an_unknown_number_is_judged_only_when_a_list_was_imported() -> None:
    text = AD + "审查证明：（瀚）医广【2026】第09-09-0999号"
    output = evaluate(text, LISTED)
    assert adcert_rules(output) == ["adcert.unknown"]
    reason = output.reasons[[r.rule_id for r in output.reasons].index("adcert.unknown")]
    assert text[reason.start : reason.end] == reason.text == "（瀚）医广【2026】第09-09-0999号"
    assert ad_certs(output) == [Identifier("ad_cert", "(瀚)医广[2026]第09-09-0999号", False)]
    for no_list in (None, AdCertificates()):
        output = evaluate(text, no_list)
        assert adcert_rules(output) == []
        assert ad_certs(output) == [Identifier("ad_cert", "(瀚)医广[2026]第09-09-0999号", None)]


def test_an_expired_certificate() -> None:
    listed_but_expired = AD + "（瀚）医广【2025】第05-02-0031号"  # valid until 2026-05-01
    assert adcert_rules(evaluate(listed_but_expired, LISTED)) == ["adcert.expired"]
    old = AD + "（京）医广【2023】第07-01-0355号"  # a one-year certificate from 2023
    assert adcert_rules(evaluate(old)) == ["adcert.expired"]
    assert adcert_rules(evaluate(old, LISTED)) == ["adcert.unknown"]
    assert ad_certs(evaluate(old)) == [Identifier("ad_cert", "(京)医广[2023]第07-01-0355号", False)]


def test_a_certificate_dated_after_today_cannot_exist() -> None:
    assert adcert_rules(evaluate(AD + "（京）医广【2031】第07-01-0355号")) == ["adcert.unknown"]


def test_a_shown_number_is_checked_on_any_page() -> None:
    # the cue list does not call a bare line an ad, but a certificate number only appears on ads
    assert adcert_rules(evaluate("广告 （瀚）医广【2026】第09-09-0999号", LISTED)) == ["adcert.unknown"]


@pytest.mark.parametrize(
    "text",
    [
        # a hospital's own service page: institution words, but no promotional wording
        "瀚州市人民医院 预约挂号\n本院实行预约挂号实名制，专家门诊号源通过官方平台放出，只收取挂号费。",
        # a notice about illegal ads
        "关于整治违法医疗广告的通知\n部分医院发布含有治愈率、无效退款、专家坐诊等内容的违法医疗广告。",
        # an explainer quoting ad wording
        "如何识别医托\n这类医院的网页上写着“专家坐诊”“免费咨询”“疗效显著”，千万别信。",
        # promotion without a medical institution
        "瀚州大药房 优惠 限时 特价 折扣",
        "",
    ],
)
def test_pages_that_are_not_medical_ads(text: str) -> None:
    assert adcert_rules(evaluate(text)) == []


def test_the_bundled_cue_list_loads() -> None:
    cues = load_medical_ad_cues()
    assert cues.is_ad(normalise(AD))[0]
    assert not cues.is_ad(normalise("瀚州市人民医院 门诊时间"))[0]


def test_a_bad_cue_line_names_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "medical_ad_cues.txt").write_text("institution\t医院\nadvert\t优惠\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"medical_ad_cues.txt:2"):
        load_medical_ad_cues(tmp_path)


# --- the analyst's CSV --------------------------------------------------------------------------------------

CSV_ROWS = (
    "审查证明文号,医疗机构名称,有效期起,有效期止\n"
    "（瀚）医广【2026】第03-01-0012号,瀚州博爱皮肤病医院,2026-03-01,2027-02-28\n"
    "不是文号,坏行医院,2026-01-01,2026-12-31\n"
    "(瀚)医广[2025]第05-02-0031号,瀚州美好口腔门诊部,2025/5/2,2026年5月1日\n"
    ",没有文号,2026-01-01,2026-12-31\n"
    "(瀚)医广[2026]第04-04-0044号,日期坏了,2026-02-30,2027-02-28\n"
    "(瀚)医广[2026]第04-05-0045号,起止颠倒,2026-05-01,2026-01-01\n"
    "\n"
    "(瀚)中医广[2026]第01-01-0001号,瀚州国医馆,20260101,\n"
)


def test_csv_with_a_utf8_bom_imports_good_rows_and_reports_bad_ones_by_line() -> None:
    parsed = read_certificates_csv("\ufeff".encode() + CSV_ROWS.encode("utf-8"))
    assert parsed.encoding == "utf-8-sig"
    assert [(c.number, c.institution, c.valid_from, c.valid_until) for c in parsed.certificates] == [
        ("(瀚)医广[2026]第03-01-0012号", "瀚州博爱皮肤病医院", date(2026, 3, 1), date(2027, 2, 28)),
        ("(瀚)医广[2025]第05-02-0031号", "瀚州美好口腔门诊部", date(2025, 5, 2), date(2026, 5, 1)),
        ("(瀚)中医广[2026]第01-01-0001号", "瀚州国医馆", date(2026, 1, 1), None),
    ]
    assert [m.split(":")[0] for m in parsed.errors] == ["第 3 行", "第 5 行", "第 6 行", "第 7 行"]
    assert "不是文号" in parsed.errors[0] and "2026-02-30" in parsed.errors[2] and "早于" in parsed.errors[3]


def test_gbk_csv_with_english_headers_and_tabs() -> None:
    data = (
        "Number\tInstitution\tValid_From\tValid_Until\n"
        "鲁医广【2026】第0902-001-3711号\t瀚州东方医院\t2026.01.05\t2027.01.04\n"
    ).encode("gbk")
    parsed = read_certificates_csv(data)
    assert parsed.encoding == "gb18030" and not parsed.errors
    assert parsed.certificates == [
        AdCertificate("(鲁)医广[2026]第0902-001-3711号", "瀚州东方医院", date(2026, 1, 5), date(2027, 1, 4))
    ]


def test_one_validity_column_and_duplicates() -> None:
    data = (
        "文号,机构名称,有效期（起止）\n"
        "(瀚)医广[2026]第03-01-0012号,甲医院,2026-03-01至2027-02-28\n"
        "（瀚）医广【2026】第03-01-0012号,甲医院(更正),2026-03-01 ~ 2027-03-31\n"
        "(瀚)医广[2026]第03-01-0013号,乙医院,2026-03-01\n"
    ).encode()
    parsed = read_certificates_csv(data)
    assert [(c.institution, c.valid_until) for c in parsed.certificates] == [("甲医院(更正)", date(2027, 3, 31))]
    assert parsed.notes == ["第 3 行: 文号与第 2 行重复, 以本行为准"]
    assert len(parsed.errors) == 1 and parsed.errors[0].startswith("第 4 行")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "空"),
        ("名称,日期\n甲,2026-01-01\n".encode(), "没有审查证明文号列"),
        (b"\xff\xfe\x00\x81\x30\xff", "编码"),
    ],
)
def test_unusable_csv_files(data: bytes, message: str) -> None:
    with pytest.raises(TouthuntError, match=message):
        read_certificates_csv(data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-01-05", date(2026, 1, 5)), ("2026/1/5", date(2026, 1, 5)), ("2026.01.05", date(2026, 1, 5)),
     ("20260105", date(2026, 1, 5)), ("2026年1月5日", date(2026, 1, 5)), ("2026/1/5 0:00:00", date(2026, 1, 5)),
     ("  ", None)],
)  # fmt: skip
def test_dates(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_bad_dates() -> None:
    for text in ("明年", "2026-13-01", "26-1-5"):
        with pytest.raises(ValueError):
            parse_date(text)


# --- storage and the commands -------------------------------------------------------------------------------


def test_upsert_and_load(sessions: Any) -> None:
    with sessions.begin() as session:
        counts = upsert_certificates(session, list(LISTED), source_file="a.csv")
        assert (counts.inserted, counts.updated) == (2, 0)
    with sessions.begin() as session:
        changed = AdCertificate(
            "(瀚)医广[2025]第05-02-0031号", "瀚州美好口腔门诊部", date(2025, 5, 2), date(2026, 8, 1)
        )
        counts = upsert_certificates(session, [changed], source_file="b.csv")
        assert (counts.inserted, counts.updated) == (0, 1)
    with sessions() as session:
        rows = list_certificates(session)
        assert [(r.number, r.source_file) for r in rows] == [
            ("(瀚)医广[2025]第05-02-0031号", "b.csv"),
            ("(瀚)医广[2026]第03-01-0012号", "a.csv"),
        ]
        loaded = load_certificates(session)
    certificate = loaded.get("（瀚）医广【2025】第05-02-0031号")
    assert certificate is not None and certificate.valid_until == date(2026, 8, 1)
    assert adcert_rules(evaluate(AD + "（瀚）医广【2025】第05-02-0031号", loaded)) == []


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Any:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": database_url}}), encoding="utf-8")

    @click.group()
    def root() -> None:
        """The touthunt group as the lead registers ``certs`` in it."""

    root.add_command(certs)

    def run(*args: str) -> Any:
        return CliRunner().invoke(root, ["certs", *args, "--config", str(config)], catch_exceptions=False)

    return run


def test_certs_import_and_list(cli: Any, tmp_path: Path) -> None:
    first = tmp_path / "approved.csv"
    first.write_bytes("\ufeff".encode() + CSV_ROWS.encode("utf-8"))
    result = cli("import", str(first))
    assert result.exit_code == 1  # bad rows were skipped; the good ones are in
    assert "导入审查证明 3 条 (新增 3, 更新 0); 有误跳过 4 行; 库中共 3 条" in result.stdout
    assert "approved.csv: 第 3 行: 审查证明文号无法识别 '不是文号'" in result.stderr

    update = tmp_path / "update.csv"
    update.write_bytes(
        "审查证明文号,医疗机构名称,有效期止\n（瀚）医广【2025】第05-02-0031号,美好口腔,2026-12-31\n".encode("gbk")
    )
    result = cli("import", str(update))
    assert result.exit_code == 0, result.output
    assert "(新增 0, 更新 1)" in result.stdout and "库中共 3 条 [gb18030]" in result.stdout

    listed = cli("list", "--format", "json")
    assert listed.exit_code == 0
    rows = {row["number"]: row for row in json.loads(listed.stdout)}
    assert rows["(瀚)医广[2025]第05-02-0031号"]["institution"] == "美好口腔"
    assert rows["(瀚)医广[2025]第05-02-0031号"]["valid_until"] == "2026-12-31"
    assert set(rows) == {
        "(瀚)医广[2026]第03-01-0012号",
        "(瀚)医广[2025]第05-02-0031号",
        "(瀚)中医广[2026]第01-01-0001号",
    }
    table = cli("list")
    assert table.exit_code == 0 and "审查证明文号" in table.stdout and "瀚州国医馆" in table.stdout
    assert "共 3 条审查证明" in table.stderr


def test_certs_import_of_a_missing_or_unusable_file(cli: Any, tmp_path: Path) -> None:
    result = cli("import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1 and "无法读取" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("名称\n甲\n", encoding="utf-8")
    result = cli("import", str(bad))
    assert result.exit_code == 1 and "没有审查证明文号列" in result.stderr
