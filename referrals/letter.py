"""The referral letter (移交函) of a batch as a docx: who it is for, how many leads of which category, the legal
basis of each category in plain words, what the institute asks the authority to do, the attachments with
the evidence package's hash and how to check it.

The legal-basis texts are the team's own plain summaries naming the laws and regulations generically; the
letter says that the current official texts govern (laws are revised and articles renumbered).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from crawler.labels import category_label

CHINA = ZoneInfo("Asia/Shanghai")

RECIPIENTS = {
    "cac": "网信部门",
    "miit": "通信管理局",
    "samr": "市场监督管理部门",
    "police": "公安机关",
}

LEGAL_BASIS = {
    "scalper_service": (
        "以收取服务费的方式代挂号、倒卖医院号源，并要求患者提供姓名、身份证号等个人信息，扰乱医疗机构正常诊疗秩序，"
        "损害患者公平就医的权利。此类行为可依照治安管理处罚法中关于扰乱单位秩序的规定以及个人信息保护方面的法律规定处理；"
        "借助网站、网络平台发布此类信息，属于互联网信息服务管理办法和网络信息内容生态治理规定禁止传播的违法信息，"
        "网站和平台应当停止传输、删除信息并保存有关记录。"
    ),
    "medical_tout": (
        "以“专家助理”“咨询医生”等身份在网上招揽患者，冒用或影射正规医院名义，夸大疗效诱导患者到特定机构就医，属于网络医托。"
        "此类信息违反广告法和医疗广告管理办法对医疗广告的规定；以虚构事实的方式收取患者钱财的，涉嫌诈骗；"
        "发布此类信息的网站和账号违反互联网信息服务管理办法关于禁止传播违法信息的规定。"
    ),
    "illegal_medical_ad": (
        "页面以治愈率、有效率、保证疗效、患者现身说法等方式宣传医疗服务，或者未标示医疗广告审查证明文号。"
        "广告法规定医疗广告不得对功效、安全性作出断言或保证，不得说明治愈率、有效率，不得利用患者名义作推荐证明；"
        "医疗广告管理办法规定医疗机构发布医疗广告须事先取得医疗广告审查证明并按审查内容发布；"
        "互联网广告管理办法禁止以健康、养生知识介绍等形式变相发布医疗广告。"
    ),
}

REQUESTS = {
    "cac": "请依据网络信息内容生态治理的有关规定，督促相关平台删除上述信息、处置发布账号，并将处理结果函告我所。",
    "miit": (
        "请对上述网站核查备案信息并依法责令整改；对拒不整改或未依法备案的网站，依照互联网信息服务管理办法和"
        "非经营性互联网信息服务备案管理的有关规定停止接入或注销备案，并将处理结果函告我所。"
    ),
    "samr": "请依据广告法和医疗广告管理办法的有关规定，对上述广告的发布者依法调查处理，并将处理结果函告我所。",
    "police": "请对上述联系方式所涉人员依法调查；涉嫌违法犯罪的依法处理，并将处理结果函告我所。",
}


@dataclass(frozen=True)
class LetterFacts:
    number: str
    authority: str
    institute: str
    categories: Sequence[str]  # one per referred hit
    rows: int  # lines in the list (domains for miit)
    bureaus: Sequence[str]  # miit: the bureaus the ICP numbers route to
    approved_at: datetime
    sheet_name: str
    csv_name: str
    zip_name: str
    zip_manifest_sha256: str


def _chinese_date(moment: datetime) -> str:
    local = moment.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日"


def _paragraph(document: object, text: str, *, bold: bool = False, align: object = None, size: int = 12) -> None:
    paragraph = document.add_paragraph()  # type: ignore[attr-defined]
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.size = Pt(size)
    if align is not None:
        paragraph.alignment = align


def render_letter(facts: LetterFacts) -> bytes:
    """The letter as docx bytes; core properties carry the approval time (callers fix the archive's times)."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    _paragraph(document, "关于移交涉嫌违法互联网信息线索的函", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=18)
    _paragraph(document, f"编号：{facts.number}", align=WD_ALIGN_PARAGRAPH.CENTER)
    recipient = RECIPIENTS[facts.authority]
    if facts.authority == "miit" and facts.bureaus:
        recipient = "、".join(facts.bureaus)
    _paragraph(document, f"{recipient}：")
    counts = Counter(facts.categories)
    parts = "，".join(f"{category_label(code)} {n} 条" for code, n in sorted(counts.items()))
    unit = "个网站" if facts.authority == "miit" else "个网址"
    _paragraph(
        document,
        f"我所在互联网涉医有害信息监测工作中发现下列涉嫌违法的信息，经人工审核确认，现移交贵单位依法处理。"
        f"本批次共 {len(facts.categories)} 条线索，涉及 {facts.rows} {unit}，其中{parts}。",
    )
    _paragraph(document, "一、认定依据", bold=True)
    for code in sorted(counts):
        _paragraph(document, f"（{category_label(code)}）{LEGAL_BASIS.get(code, '')}")
    _paragraph(document, "以上所列法律、法规和规章以现行有效文本为准。")
    _paragraph(document, "二、处理建议", bold=True)
    _paragraph(document, REQUESTS[facts.authority])
    _paragraph(document, "三、附件", bold=True)
    _paragraph(document, f"1. 移交清单：{facts.sheet_name}（同内容的 CSV 文件：{facts.csv_name}）；")
    _paragraph(
        document,
        f"2. 证据包：{facts.zip_name}，内含每条线索的网页原始数据（WARC 格式）、整页截图和证据清单。"
        f"证据包清单文件 manifest.json 的 SHA-256 值为 {facts.zip_manifest_sha256}。"
        "解压后在证据包目录中运行 sha256sum -c SHA256SUMS 即可逐一核对全部文件是否完整、未被改动。",
    )
    _paragraph(document, facts.institute, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(document, _chinese_date(facts.approved_at), align=WD_ALIGN_PARAGRAPH.RIGHT)
    props = document.core_properties
    props.author = facts.institute
    props.last_modified_by = facts.institute
    props.title = f"移交函 {facts.number}"
    props.created = facts.approved_at.astimezone(UTC).replace(tzinfo=None)
    props.modified = facts.approved_at.astimezone(UTC).replace(tzinfo=None)
    props.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
