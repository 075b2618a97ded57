"""Tests for the scorer's signal extension point (`keywords.signals`): evidence kinds weigh like lexicon evidence,
categories are voted, contacts, sources and identifiers are merged, and image texts yield qr/ocr contacts."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from keywords import Scorer, load_scorer
from keywords.normalisation import NormalisedText
from keywords.result import Identifier
from keywords.scorer import SUPPORT_ALONE_FACTOR
from keywords.signals import ImageText, PageInput, SignalOutput, SignalReason


@dataclass
class FakeSignal:
    """Returns a fixed output and records what it was given."""

    output: SignalOutput
    name: str = "fake"
    seen: list[tuple[PageInput, NormalisedText]] = field(default_factory=list)

    def evaluate(self, page: PageInput, normalised: NormalisedText) -> SignalOutput:
        self.seen.append((page, normalised))
        return self.output


@pytest.fixture(scope="module")
def plain() -> Scorer:
    return load_scorer()


def _with(plain: Scorer, *signals: FakeSignal) -> Scorer:
    return Scorer(plain.lexicon, hit_threshold=plain.hit_threshold, signals=signals)


def _weights(result: object) -> dict[str, float]:
    return {r.rule_id: r.weight for r in result.reasons}  # type: ignore[attr-defined]


def test_signal_sees_the_page_and_its_normalised_text(plain: Scorer) -> None:
    signal = FakeSignal(SignalOutput())
    scorer = _with(plain, signal)
    images = (ImageText("a.png", "qr", "weixin://x"),)
    scorer.score("代挂号", url="http://a.example/", links=("http://b.example/",), image_texts=images)
    [(page, normalised)] = signal.seen
    assert page == PageInput("代挂号", "http://a.example/", ("http://b.example/",), images)
    assert normalised.skeleton == "代挂号"


def test_core_signal_evidence_counts_as_core_and_votes_its_category(plain: Scorer) -> None:
    reason = SignalReason("link.known_bad", "http://bad.example/", -1, -1, 30.0, "core", ("medical_tout",))
    result = _with(plain, FakeSignal(SignalOutput(reasons=(reason,)))).score("私聊")
    weights = _weights(result)
    assert weights["link.known_bad"] == 30.0
    assert weights["cta.私聊"] == 8.0  # support at full weight: the page has core evidence now
    assert result.category == "medical_tout"
    shown = next(r for r in result.reasons if r.rule_id == "link.known_bad")
    assert (shown.start, shown.end, shown.text) == (-1, -1, "http://bad.example/")


def test_support_and_contact_signal_evidence_need_core(plain: Scorer) -> None:
    reasons = (
        SignalReason("lookalike.name", "协和医院", 0, 4, 10.0, "support", ("scalper_service",)),
        SignalReason("contact.landline", "010-12345678", 5, 17, 8.0, "contact"),
    )
    scorer = _with(plain, FakeSignal(SignalOutput(reasons=reasons)))
    alone = _weights(scorer.score("协和医院 010-12345678"))
    assert alone["lookalike.name"] == round(10.0 * SUPPORT_ALONE_FACTOR, 2)
    assert alone["contact.landline"] == 0.0
    offer = _weights(scorer.score("协和医院 010-12345678 代挂号"))
    assert offer["lookalike.name"] == 10.0 and offer["contact.landline"] == 8.0


def test_context_signal_evidence_subtracts(plain: Scorer) -> None:
    reason = SignalReason("link.official_only", "gov", -1, -1, -25.0, "context")
    result = _with(plain, FakeSignal(SignalOutput(reasons=(reason,)))).score("代挂号，号满可加")
    assert _weights(result)["link.official_only"] == -25.0
    assert result.score < plain.score("代挂号，号满可加").score


def test_contacts_sources_and_identifiers_are_merged(plain: Scorer) -> None:
    output = SignalOutput(
        contacts={"landline": ["010-12345678"], "tollfree": ["4001234567"], "mobile": ["13912345678"]},
        contact_sources={"tollfree:4001234567": "ocr"},
        identifiers=(Identifier("icp", "京ICP备12345678号", True), Identifier("icp", "京ICP备12345678号", True)),
    )
    result = _with(plain, FakeSignal(output)).score("代挂号 电话13812345678")
    assert result.contacts["mobile"] == ["13812345678", "13912345678"]
    assert result.contacts["landline"] == ["010-12345678"]
    assert result.contacts["tollfree"] == ["4001234567"]
    assert result.contact_sources == {"tollfree:4001234567": "ocr"}
    assert result.identifiers == (Identifier("icp", "京ICP备12345678号", True),)
    assert result.to_dict()["identifiers"] == [{"kind": "icp", "value": "京ICP备12345678号", "valid": True}]


def test_contacts_always_have_a_key_for_every_kind_the_scorer_reports(plain: Scorer) -> None:
    assert plain.score("").contacts == {"mobile": [], "wechat": [], "qq": []}
    with_signal = _with(plain, FakeSignal(SignalOutput()))
    assert with_signal.score("").contacts == {"mobile": [], "wechat": [], "qq": [], "landline": [], "tollfree": []}
    declaring = FakeSignal(SignalOutput())
    declaring.contact_kinds = ("email",)  # type: ignore[attr-defined]
    assert "email" in _with(plain, declaring).score("").contacts


def test_image_texts_yield_contacts_marked_qr_or_ocr(plain: Scorer) -> None:
    images = (
        ImageText("card.png", "ocr", "加V：zhuanjia_666"),
        ImageText("qr.png", "qr", "联系电话 13812345678"),
        ImageText("dup.png", "ocr", "QQ 12345678"),
    )
    result = plain.score("代挂号，专家号当天可挂，QQ：12345678", image_texts=images)
    assert result.contacts["wechat"] == ["zhuanjia_666"]
    assert result.contacts["mobile"] == ["13812345678"]
    assert result.contact_sources == {"wechat:zhuanjia_666": "ocr", "mobile:13812345678": "qr"}
    image_reasons = [r for r in result.reasons if r.start == -1]
    assert {(r.rule_id, r.text, r.weight) for r in image_reasons} == {
        ("contact.wechat", "zhuanjia_666", 12.0),
        ("contact.mobile", "13812345678", 12.0),
    }
    # the QQ number the text already shows is not counted again from the image
    assert [r.rule_id for r in result.reasons].count("contact.qq") == 1


def test_image_contacts_alone_weigh_nothing(plain: Scorer) -> None:
    result = plain.score("今天天气很好", image_texts=(ImageText("a.png", "ocr", "电话13812345678"),))
    assert result.score == 0
    assert result.contacts["mobile"] == ["13812345678"]


def test_load_scorer_takes_signals(plain: Scorer) -> None:
    signal = FakeSignal(SignalOutput())
    scorer = load_scorer(signals=(signal,))
    scorer.score("x")
    assert scorer.signals == (signal,) and len(signal.seen) == 1
