"""Look-alike hospitals: listed names presented on non-official hosts, near-miss names, imitating domains; and
the negatives that must stay quiet (the official site, unrelated domains, news and forum pages naming a
hospital, other real hospitals one ordinal or one city away)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from keywords.links import KnownBad, LinkSignal
from keywords.lookalike import Hospitals, load_hospitals
from keywords.normalisation import normalise
from keywords.signals import PageInput

UNOFFICIAL = "http://www.some-site.cn/index.html"


@pytest.fixture(scope="module")
def hospitals() -> Hospitals:
    return load_hospitals()


def rules(hospitals: Hospitals, url: str, text: str) -> dict[str, tuple[float, str]]:
    return {r.rule_id: (r.weight, r.kind) for r in hospitals.lookalike_reasons(url, text)}


def test_bundled_list_loads_with_the_demo_hospitals(hospitals: Hospitals) -> None:
    assert len(hospitals) >= 30
    hospital = hospitals.lookup("瀚大一院")
    assert hospital is not None and hospital.name == "瀚江大学附属第一医院"
    assert hospitals.lookup("瀚州市人民醫院") is hospitals.lookup("瀚州市人民医院")  # traditional folds
    assert hospitals.is_official_url("http://www.hzsrmyy.org.cn/jzfw/yygh.html")
    assert hospitals.is_official_url("https://www.huashan.org.cn/")
    assert not hospitals.is_official_url("http://shhuashan.com/")


# -- names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "瀚州市人民医院",
        "预约挂号 - 瀚州市人民医院",
        "瀚州市人民医院官网",
        "瀚州市人民醫院官方網站｜首页",  # traditional, full-width separator
        "欢迎访问瀚州市人民医院预约挂号平台",
        "北京挂号网 - 北京市预约挂号统一平台",
    ],
)
def test_a_listed_name_presented_on_an_unofficial_host(hospitals: Hospitals, title: str) -> None:
    reasons = hospitals.lookalike_reasons(UNOFFICIAL, f"{title}\n正文……")
    [reason] = [r for r in reasons if r.rule_id == "lookalike.name_on_unofficial_host"]
    assert reason.kind == "core" and reason.weight == 20.0
    assert f"{title}\n"[reason.start : reason.end] == reason.text  # the span points into the title


def test_a_head_line_with_an_official_cue_presents_the_page(hospitals: Hospitals) -> None:
    text = "欢迎光临\n瀚州市人民医院官方网站\n专家号当天可约"
    assert "lookalike.name_on_unofficial_host" in rules(hospitals, UNOFFICIAL, text)


def test_a_booking_name_votes_scalper_a_hospital_name_votes_both(hospitals: Hospitals) -> None:
    [booking] = hospitals.lookalike_reasons(UNOFFICIAL, "瀚州市人民医院预约挂号\n")
    [plain] = hospitals.lookalike_reasons(UNOFFICIAL, "瀚州市人民医院\n")
    assert booking.categories == ("scalper_service",)
    assert plain.categories == ("scalper_service", "medical_tout")


@pytest.mark.parametrize(
    ("title", "weight"),
    [
        ("首页 - 复大大学附属华山医院", 15.0),  # 复大 for 复旦
        ("瀚洲市人民医院", 15.0),  # 瀚洲 for 瀚州
        ("上海瀚洲人民医院", 15.0),  # the same, after a city prefix
        ("瀚州人医院", 15.0),  # a character dropped
        ("上海新华山医院", 15.0),  # extra characters in front of 上海华山医院's tail
        ("新瀚州市人民医院官网", 15.0),  # extra prefix
        ("翰大一院", 8.0),  # one character off a four-character name: weak alone
    ],
)
def test_near_miss_names(hospitals: Hospitals, title: str, weight: float) -> None:
    found = rules(hospitals, UNOFFICIAL, f"{title}\n")
    assert found["lookalike.name"][0] == weight
    assert "lookalike.name_on_unofficial_host" not in found or found["lookalike.name_on_unofficial_host"][0] < 20


@pytest.mark.parametrize(
    "title",
    [
        "北京大学第六医院",  # another real hospital, one ordinal away from 第一/第三
        "中南大学湘雅二医院",
        "上海华东医院",  # a direction away from 华山/华西
        "江西省人民医院",  # a different province before 省
        "杭州市人民医院",  # a different city before 市
        "四川大学华西第二医院",
        "上海同仁医院",  # 同仁医院 is not listed as an alias: it names hospitals in several cities
        "瀚州健康论坛",
    ],
)
def test_other_real_institutions_are_not_near_misses(hospitals: Hospitals, title: str) -> None:
    assert rules(hospitals, UNOFFICIAL, f"{title}\n") == {}


@pytest.mark.parametrize(
    ("url", "text"),
    [
        # the official site itself
        ("http://www.hzsrmyy.org.cn/jzfw/yygh.html", "预约挂号指南 - 瀚州市人民医院\n瀚州市人民医院官方网站"),
        ("https://www.huashan.org.cn/", "复旦大学附属华山医院\n"),
        # news and encyclopedia pages naming a hospital carry their own site name last
        ("http://www.hzxww.cn/shehui/1.html", "瀚州市人民医院：谨防号贩子_社会民生_瀚州新闻网\n瀚州市人民医院\n正文"),
        ("http://www.hzxww.cn/tag/1.html", "瀚州市人民医院_瀚州新闻网\n瀚州市人民医院\n"),
        ("https://baike.example.com/item/1", "北京协和医院_百科\n北京协和医院\n北京协和医院是……"),
        # a forum question and a scalper's list of hospitals it serves are not presentations
        (
            "http://bbs.jiankang-luntan.cn/t.html",
            "瀚大一院神经外科顾明远主任的号怎么这么难挂？ - 就医求助 - 瀚州健康论坛",
        ),
        ("http://www.mingyihao88.com/", "瀚州名医加号网｜专家号约满也能加｜瀚大一院 人民医院 省中医院\n"),
        ("http://www.zhuanjiahao365.cn/", "首页\n  网站首页 | 瀚大一院 | 省中医院 | 号源动态 | 联系我们\n"),
        # an unrelated site
        ("http://www.jiachang-caipu.com/", "家常菜谱网 - 每天一道家常菜\n"),
        # no URL: the host is unknown
        ("", "瀚州市人民医院官网\n"),
    ],
)
def test_negatives(hospitals: Hospitals, url: str, text: str) -> None:
    assert hospitals.lookalike_reasons(url, text) == []


def test_a_site_claiming_to_be_an_official_hospital_site_without_a_listed_name(hospitals: Hospitals) -> None:
    title = "瀚州博爱皮肤病医院【官网】瀚州看牛皮癣、白癜风、湿疹哪家医院好"
    [reason] = hospitals.lookalike_reasons("http://www.hzbaoai-pifu.com/", f"{title}\n瀚州博爱皮肤病医院\n")
    assert (reason.rule_id, reason.kind, reason.weight) == ("lookalike.name_on_unofficial_host", "support", 6.0)
    assert reason.categories == ("scalper_service", "medical_tout")


# -- domains -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "weight", "kind"),
    [
        ("http://www.bjguahao.net.cn/", 20.0, "core"),  # same label, another suffix
        ("http://huashan.com/", 20.0, "core"),
        ("http://hzsrmyy.com/", 20.0, "core"),
        ("http://www.hz-srmyy.org.cn/", 20.0, "core"),  # a hyphen added
        ("http://zshospital.sh.cn/", 20.0, "core"),  # a hyphen removed (zs-hospital.sh.cn)
        ("http://hzsrmyy120.com/", 20.0, "core"),  # digits added
        ("http://www.shhuashan.com/", 15.0, "core"),  # the official label with extra letters
        ("http://wchscv.cn/", 15.0, "core"),  # one letter off a six-letter label
        ("http://huashanhotels.com/", 8.0, "support"),  # many extra letters: weak
        ("http://fuwaihospitl.org/", 15.0, "core"),
        ("http://fuwaihosptl.com/", 8.0, "support"),  # two letters off a long label
    ],
)
def test_domains_imitating_an_official_one(hospitals: Hospitals, url: str, weight: float, kind: str) -> None:
    [reason] = [r for r in hospitals.lookalike_reasons(url, "页面\n") if r.rule_id == "lookalike.domain"]
    assert (reason.weight, reason.kind, reason.start, reason.end) == (weight, kind, -1, -1)
    assert "≈" in reason.text


@pytest.mark.parametrize(
    "url",
    [
        "http://www.hzsrmyy.org.cn/",  # the official domain
        "http://m.huashan.org.cn/",  # a subdomain of it
        "http://www.jiachang-caipu.com/",
        "http://www.hzguahao-vip.com/",  # a scalper site, but not imitating a listed domain
        "http://renji.org.cn.example.com/",  # registrable domain example.com
        "http://127.0.0.1:8080/",
        "http://localhost/",
        "http://bch.net/",  # three-letter labels are too short to compare
        "http://hospital.com/",  # digits are the distinctive part of 301hospital: "hospital" alone is not
        "http://hospital120.com/",
    ],
)
def test_domains_that_do_not_imitate(hospitals: Hospitals, url: str) -> None:
    assert [r for r in hospitals.lookalike_reasons(url, "页面\n") if r.rule_id == "lookalike.domain"] == []


def test_the_link_signal_runs_the_lookalike_checks(hospitals: Hospitals) -> None:
    signal = LinkSignal(KnownBad(), hospitals, official_domains=("gov.cn",))
    text = "瀚州市人民医院官网\n预约挂号"
    found = signal.evaluate(PageInput(text=text, url="http://hzsrmyy.com/"), normalise(text))
    assert {r.rule_id for r in found.reasons} == {"lookalike.domain", "lookalike.name_on_unofficial_host"}
    official = signal.evaluate(PageInput(text=text, url="http://www.hzsrmyy.org.cn/"), normalise(text))
    assert official.reasons == ()


def test_matching_is_bounded_on_long_pages(hospitals: Hospitals) -> None:
    text = "瀚洲市人民医院专家号 - 某站\n" + ("复大医院瀚大一院翰大一院" * 50 + "\n") * 20000
    started = time.perf_counter()
    for _ in range(20):
        hospitals.lookalike_reasons("http://x.example.cn/", text)
    assert time.perf_counter() - started < 2.0


def test_malformed_files_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "hospitals.tsv"
    path.write_text("# c\n某医院\t-\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"hospitals.tsv:2: expected"):
        load_hospitals(path)
    path.write_text("某某医院\t-\t-\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no official domain"):
        load_hospitals(path)
    path.write_text("甲医院\t共用医院\ta.cn\n乙医院\t共用医院\tb.cn\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r":2: '共用医院' is already listed for 甲医院"):
        load_hospitals(path)
    path.write_text("甲医院\t-\thttp://a.cn/\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a bare domain"):
        load_hospitals(path)
