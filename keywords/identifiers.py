"""Registration numbers and phone-like contacts on a page, and what they say about it.

This module owns the formats of the numbers a Chinese website or medical ad shows, how each is found, normalised
and checked, and `IdentifierSignal`, which turns them into evidence for the scorer (`keywords.signals`).

Everything runs on the digits view of `keywords.normalisation` (NFKC, t2s, ASCII lower-cased, Chinese numerals
mapped inside number runs), so full-width forms ("京ＩＣＰ备１２３４５６７８号"), irregular spacing and numbers
written in Chinese are found; spans are mapped back to the original text.

Identifiers (`keywords.result.Identifier`, ``valid`` = format / check-digit / year sanity):

* ``icp`` -- ICP filing ``<province>ICP备<digits>号[-N]`` (also "ICP备案号", a space before the digits, "-N" before
  号, 号 missing). Value ``京ICP备12345678号-1``. Valid: an ICP province abbreviation (they differ from licence
  plates: 蜀 陇 滇 黔, never 川 甘 云 贵) and 6 or 8 digits, or 10 digits starting with a year 2000..today.
* ``icp_licence`` -- commercial ICP licence ``<province>ICP证<digits>号``; valid with an ICP province and 6 digits.
* ``police_filing`` -- 公安联网备案 ``<province>公网安备<14 digits>号``; valid when the province is known and the
  first two digits are its administrative-division code (京 11, 粤 44, 川/蜀 51 ...).
* ``uscc`` -- unified social credit code (GB 32100): 18 characters of ``0-9A-HJ-NPQRTUWXY``; valid when the
  registration department is known, the check character matches and the embedded organisation code (positions
  9-17, GB 11714) passes its own check. A code is taken when a cue (统一社会信用代码, 信用代码, 营业执照, 税号 ...)
  stands just before it; without a cue only a code that passes its check and is not a resident ID number.
* ``drug_info`` -- 互联网药品信息服务资格证书 ``(京)-经营性-2017-0020`` / ``非经营性``; valid with a known province
  and a year 2000..today.
* ``ad_cert`` -- 医疗广告审查证明文号 in the national and provincial forms:
  ``(京)医广[2016]第0701035号``, ``（京）医广【2016】第07-01-0355号``,
  ``（成青） 医广【2019】第03-12-510105020号``, ``（渝）医广[2015]（网络）第189号``,
  ``鲁医广【2013】第0902-001-3711号``, and ``中医广`` / ``鲁中医广字`` for TCM ads.
  Value (`normalise_ad_cert_number`): ``(京)医广[2016]第07-01-0355号`` -- ASCII brackets, no spaces, 字 and the
  media-type note dropped, the issuer in brackets. ``valid`` comes from the certificate list when one was
  imported (found and not expired), else False for a year after today or before last year (a certificate is
  valid for one year), else None.

Contacts (kinds ``landline`` and ``tollfree``; mobile, WeChat and QQ are `keywords.contacts`):

* landline: area code 0 + 2 digits (010, 020-029) or 0 + 3 digits (0311 ... 0999), optionally in brackets or
  followed by a dash or space, then a 7-8 digit subscriber number starting 2-8 (one space or dash allowed inside
  it), then an optional extension (-123, 转123, ext 123) that is not part of the value. Value ``020-83848400``.
* tollfree: 400 or 800 + 7 digits, spaces or dashes between digit groups. Value ``4006883172``.
* Numbers listed in ``official_hotlines.txt`` (official booking lines, hospital switchboards the analyst lists)
  are never reported, and numbers inside an identifier (an ICP number that happens to start with 0) are not.

Evidence (`IdentifierSignal`; weights in `WEIGHTS`):

* ``contact.landline`` / ``contact.tollfree`` -- contacts (weigh only with core evidence).
* ``fake.tollfree_hospital`` -- a 400/800 number on a page presenting itself as a hospital (its first line, the
  title, names a 医院/门诊部/诊所/医疗中心/中医馆): the fake-hospital-site tell. Core, votes medical_tout.
* ``fake.uscc_invalid`` -- a USCC failing its check character or organisation-code check. Core, medical_tout.
* ``fake.uscc_individual_hospital`` -- a 个体工商户 code (92...) on a page presenting itself as a hospital. Core,
  medical_tout.
* ``adcert.missing`` / ``adcert.unknown`` / ``adcert.expired`` -- see `IdentifierSignal`. Core, illegal_medical_ad.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from keywords.normalisation import fold_term, normalise
from keywords.quotes import in_spans, quoted_spans
from keywords.result import Identifier
from keywords.signals import SignalOutput, SignalReason

if TYPE_CHECKING:
    from keywords.adcerts import AdCertificates
    from keywords.normalisation import NormalisedText
    from keywords.signals import PageInput

__all__ = [
    "DEFAULT_DATA_DIR",
    "HOTLINES_FILE",
    "MEDICAL_AD_CUES_FILE",
    "PROVINCE_CODES",
    "WEIGHTS",
    "FoundIdentifier",
    "IdentifierSignal",
    "MedicalAdCues",
    "PhoneContact",
    "ad_cert_year",
    "find_identifiers",
    "find_phone_contacts",
    "load_medical_ad_cues",
    "load_official_hotlines",
    "normalise_ad_cert_number",
    "normalise_phone",
    "orgcode_valid",
    "resident_id_valid",
    "uscc_valid",
]

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"
HOTLINES_FILE = "official_hotlines.txt"
MEDICAL_AD_CUES_FILE = "medical_ad_cues.txt"

# Province abbreviations -> the first two digits of their administrative-division codes (GB/T 2260). Both the
# licence-plate forms and the literary forms ICP filings use (蜀 for 川, 陇 for 甘, 滇 for 云, 黔 for 贵) are listed.
PROVINCE_CODES: dict[str, str] = {
    "京": "11", "津": "12", "冀": "13", "晋": "14", "蒙": "15", "辽": "21", "吉": "22", "黑": "23", "沪": "31",
    "苏": "32", "浙": "33", "皖": "34", "闽": "35", "赣": "36", "鲁": "37", "豫": "41", "鄂": "42", "湘": "43",
    "粤": "44", "桂": "45", "琼": "46", "渝": "50", "川": "51", "蜀": "51", "贵": "52", "黔": "52", "云": "53",
    "滇": "53", "藏": "54", "陕": "61", "甘": "62", "陇": "62", "青": "63", "宁": "64", "新": "65",
}  # fmt: skip
# The abbreviations ICP filing and licence numbers use.
ICP_PROVINCES = frozenset("京津沪渝冀豫滇辽黑湘皖鲁新苏浙赣鄂桂陇晋蒙陕吉闽黔粤青藏蜀宁琼")

#: Evidence weights by rule id.
WEIGHTS: dict[str, float] = {
    "contact.landline": 6.0,
    "contact.tollfree": 8.0,
    "fake.tollfree_hospital": 12.0,
    "fake.uscc_invalid": 15.0,
    "fake.uscc_individual_hospital": 15.0,
    "adcert.missing": 15.0,
    "adcert.unknown": 25.0,
    "adcert.expired": 20.0,
}
_FAKE_CATEGORIES = ("medical_tout",)
_AD_CATEGORIES = ("illegal_medical_ad",)

_CJK = "\u4e00-\u9fff"
_DASH = "[-—–]"
_PROVINCE_CLASS = "[" + "".join(PROVINCE_CODES) + "]"

# --- registration numbers (patterns run on the lower-cased digits view) ----------------------------------------

_ICP = re.compile(
    rf"([{_CJK}])\s*icp\s*(备(?:案号?)?|证)\s*(?:编?号)?\s*[:：]?\s*([0-9]{{6,10}})(?![0-9])"
    rf"(?:\s*{_DASH}\s*([0-9]{{1,3}})(?![0-9]))?(?:\s*号)?(?:\s*{_DASH}\s*([0-9]{{1,3}})(?![0-9]))?"
)
_POLICE = re.compile(rf"([{_CJK}])\s*公网安备\s*(?:号)?\s*[:：]?\s*([0-9]{{14}})(?![0-9])(?:\s*号)?")
_DRUG_INFO = re.compile(
    rf"\(\s*([{_CJK}])\s*\)\s*{_DASH}?\s*(非经营性|经营性)\s*{_DASH}\s*([0-9]{{4}})\s*{_DASH}\s*([0-9]{{3,5}})(?![0-9])"
)
_AD_CERT = re.compile(
    rf"(?:\(\s*(?P<issuer>[{_CJK}]{{1,4}})\s*\)\s*|(?P<province>{_PROVINCE_CLASS})\s*)?"
    r"(?P<tcm>中\s*)?医\s*广\s*(?:字\s*)?"
    r"[\[【〔(]\s*(?P<year>(?:19|20)[0-9]{2})\s*[\]】〕)]\s*"
    rf"(?:\(\s*[{_CJK}]{{1,4}}\s*\)\s*)?"
    rf"第?\s*(?P<serial>[0-9]+(?:\s*{_DASH}\s*[0-9]+)*)\s*号"
)
_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_DEPARTMENTS = frozenset("123456789ANY")
_USCC = re.compile(r"(?<![0-9a-z])([0-9a-hj-npqrtuwxy]{2}[0-9]{6}[0-9a-hj-npqrtuwxy]{10})(?![0-9a-z])")
_USCC_CUE = re.compile(r"(?:统一社会信用代码|社会信用代码|信用代码|营业执照|纳税人识别号|税号|注册号)[^0-9a-z\n]{0,8}$")
_USCC_CUE_WINDOW = 24
_SIX_DIGITS = re.compile("[0-9]{6}")  # every USCC has six digits in a row
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# --- phone-like contacts ------------------------------------------------------------------------------------

# A number starts after a non-alphanumeric character, or right after a phone label (OCR drops the space in
# "TEL 0571-…"); other letters glued to it make it part of a code ("A0571-87236114").
_PHONE_START = r"(?:(?<=tel)|(?<=phone)|(?<=fax)|(?<![0-9a-z+]))"
_LANDLINE = re.compile(
    _PHONE_START + r"(?:\([ \t]*)?(0(?:10|2[0-9]|[3-9][0-9]{2}))[ \t]*\)?[ \t]*[-—–]?[ \t]*"
    r"([2-8][0-9]{2,3})[ \t-]?([0-9]{4})"
    r"(?:[ \t]*(?:-|转|ext\.?|分机)[ \t]*([0-9]{1,6}))?(?![0-9a-z])"
)
_TOLLFREE = re.compile(_PHONE_START + r"([48]00(?:[ \t]{0,2}[-—–]?[ \t]{0,2}[0-9]){7})(?![0-9a-z])")
_NON_DIGIT = re.compile(r"[^0-9]")

# A page presents itself as a hospital when its first line (the title) names one.
# Only ever searched (is there one?), so "two Chinese characters right before the word" is the same test as "a run
# of two or more" -- and linear, where the run form backtracks quadratically along a long Chinese line.
_HOSPITAL_TITLE = re.compile(rf"(?<=[{_CJK}]{{2}})(?:医院|门诊部|诊所|医疗中心|中医馆)")


@dataclass(frozen=True, slots=True)
class FoundIdentifier:
    """An identifier and where it is: ``[start, end)`` of the original text."""

    identifier: Identifier
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PhoneContact:
    """A landline or toll-free number: ``kind`` landline | tollfree, normalised ``value``, original span."""

    kind: str
    value: str
    start: int
    end: int


# --- check characters ---------------------------------------------------------------------------------------


def orgcode_valid(code: str) -> bool:
    """Whether ``code`` is a well-formed 组织机构代码 (GB 11714): 8 body characters and a check character,
    with or without the dash ("12345678-9")."""
    code = code.strip().upper().replace("-", "")
    if not re.fullmatch(r"[0-9A-Z]{8}[0-9X]", code):
        return False
    total = sum((int(ch, 36)) * w for ch, w in zip(code[:8], _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    expected = {10: "X", 11: "0"}.get(check, str(check))
    return code[8] == expected


def _uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARSET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARSET[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """Whether ``code`` is a valid unified social credit code: format, registration department, the GB 32100
    check character, and the GB 11714 check of the organisation code at positions 9-17."""
    code = code.strip().upper()
    if len(code) != 18 or any(ch not in _USCC_CHARSET for ch in code) or not code[2:8].isdigit():
        return False
    if code[0] not in _USCC_DEPARTMENTS:
        return False
    return _uscc_check_char(code[:17]) == code[17] and orgcode_valid(code[8:17])


def resident_id_valid(number: str) -> bool:
    """Whether ``number`` is a valid 18-character resident ID number (birth date and ISO 7064 check)."""
    number = number.strip().upper()
    if not re.fullmatch(r"[1-9][0-9]{16}[0-9X]", number):
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(ch) * w for ch, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


# --- normalisers --------------------------------------------------------------------------------------------


def _ad_cert_value(m: re.Match[str]) -> str:
    issuer = m.group("issuer") or m.group("province") or ""
    serial = re.sub(r"\s*[-—–]\s*", "-", m.group("serial"))
    kind = "中医广" if m.group("tcm") else "医广"
    return f"({issuer}){kind}[{m.group('year')}]第{serial}号" if issuer else f"{kind}[{m.group('year')}]第{serial}号"


def normalise_ad_cert_number(raw: str) -> str | None:
    """The normalised form of a 医疗广告审查证明文号 written any usual way, or None if ``raw`` holds none."""
    m = _AD_CERT.search(normalise(raw).digits)
    return _ad_cert_value(m) if m else None


def ad_cert_year(value: str) -> int:
    """The year of a normalised certificate number."""
    m = re.search(r"\[([0-9]{4})\]", value)
    if m is None:
        raise ValueError(f"not a normalised certificate number: {value!r}")
    return int(m.group(1))


def normalise_phone(raw: str) -> str | None:
    """The contact value of a landline or toll-free number, the digits of a short service number (114, 12320),
    or None. Used for the official-hotline list."""
    view = normalise(raw.strip()).digits
    found = _phones_in_view(view)
    if found:
        return found[0][1]
    digits = _NON_DIGIT.sub("", view)
    return digits if 3 <= len(digits) <= 12 and digits == view.strip() else None


# --- data files ---------------------------------------------------------------------------------------------


def _data_lines(path: Path) -> Iterable[tuple[int, str]]:
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.split("#", 1)[0].strip()
            if line:
                yield number, line


def load_official_hotlines(directory: Path | None = None) -> frozenset[str]:
    """Normalised numbers of ``official_hotlines.txt`` in ``directory`` (falling back to the bundled file when
    the directory has none): one number per line, ``#`` comments. A line that is no number raises ValueError."""
    path = (directory or DEFAULT_DATA_DIR) / HOTLINES_FILE
    if not path.is_file():
        path = DEFAULT_DATA_DIR / HOTLINES_FILE
    values = set()
    for number, line in _data_lines(path):
        value = normalise_phone(line)
        if value is None:
            raise ValueError(f"{path}:{number}: {line!r} is not a phone number")
        values.add(value)
    return frozenset(values)


class MedicalAdCues:
    """The cue list that decides whether a page is a medical ad: at least one institution cue (医院, 门诊, 诊所 ...)
    and at least ``min_offers`` distinct offer cues (专家坐诊, 免费咨询, 优惠, 疗效 ...), none of them inside
    quotation marks (pages *about* illegal ads quote their wording), on a page with no *about* cue (违法医疗广告,
    医疗广告审查证明 ...: notices, news and explainers talk about ads; an ad does not)."""

    def __init__(
        self, institutions: Iterable[str], offers: Iterable[str], about: Iterable[str] = (), *, min_offers: int = 2
    ) -> None:
        self.min_offers = min_offers
        self._kind: dict[str, str] = {}
        for kind, terms in (("offer", offers), ("institution", institutions), ("about", about)):
            for term in terms:
                if folded := fold_term(term):
                    self._kind[folded] = kind
        ordered = sorted(self._kind, key=len, reverse=True)
        self._regex = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def find(self, text: NormalisedText) -> dict[str, list[str]]:
        """Distinct cues of each kind (institution, offer, about) outside quotation marks, in order."""
        found: dict[str, list[str]] = {"institution": [], "offer": [], "about": []}
        if self._regex is None:
            return found
        quotes = quoted_spans(text.original)
        for m in self._regex.finditer(text.skeleton):
            if in_spans(quotes, *text.skeleton_span(*m.span())):
                continue
            bucket = found[self._kind[m.group()]]
            if m.group() not in bucket:
                bucket.append(m.group())
        return found

    def is_ad(self, text: NormalisedText) -> tuple[bool, list[str]]:
        """Whether ``text`` is a medical ad, and the institution and offer cues that say so."""
        found = self.find(text)
        is_ad = bool(found["institution"]) and len(found["offer"]) >= self.min_offers and not found["about"]
        return is_ad, found["institution"] + found["offer"]


def load_medical_ad_cues(directory: Path | None = None) -> MedicalAdCues:
    """Read ``medical_ad_cues.txt`` (``<kind><TAB>term`` per line, kind institution, offer or about) from
    ``directory``, falling back to the bundled file."""
    path = (directory or DEFAULT_DATA_DIR) / MEDICAL_AD_CUES_FILE
    if not path.is_file():
        path = DEFAULT_DATA_DIR / MEDICAL_AD_CUES_FILE
    cues: dict[str, list[str]] = {"institution": [], "offer": [], "about": []}
    for number, line in _data_lines(path):
        kind, _, term = line.partition("\t")
        if kind.strip() not in cues or not fold_term(term.strip()):
            raise ValueError(f"{path}:{number}: expected '<institution|offer|about><TAB>term', got {line!r}")
        cues[kind.strip()].append(term.strip())
    return MedicalAdCues(cues["institution"], cues["offer"], cues["about"])


# --- finders ------------------------------------------------------------------------------------------------


def _phones_in_view(view: str) -> list[tuple[str, str, int, int]]:
    """(kind, value, start, end) of landline and toll-free numbers in a digits view, by position."""
    found = []
    if "0" not in view:  # every landline and toll-free number contains a 0: skip the scans (they start with
        return found  # lookbehinds, so the engine cannot skip ahead on its own)
    for m in _LANDLINE.finditer(view):
        found.append(("landline", f"{m.group(1)}-{m.group(2)}{m.group(3)}", m.start(), m.end()))
    for m in _TOLLFREE.finditer(view):
        found.append(("tollfree", _NON_DIGIT.sub("", m.group(1)), m.start(1), m.end(1)))
    found.sort(key=lambda f: (f[2], f[3]))
    return found


def find_phone_contacts(
    text: NormalisedText, *, hotlines: frozenset[str] = frozenset(), exclude: Iterable[tuple[int, int]] = ()
) -> list[PhoneContact]:
    """Landline and toll-free numbers of ``text`` (original spans), except official hotlines and numbers that
    overlap an ``exclude`` span (original offsets, e.g. the identifiers of the page)."""
    excluded = list(exclude)
    contacts = []
    for kind, value, vstart, vend in _phones_in_view(text.digits):
        if value in hotlines:
            continue
        start, end = text.digits_span(vstart, vend)
        if any(start < e and s < end for s, e in excluded):
            continue
        contacts.append(PhoneContact(kind, value, start, end))
    return contacts


def _icp(m: re.Match[str], today: date) -> Identifier:
    province, kind, digits = m.group(1), m.group(2), m.group(3)
    site = m.group(4) or m.group(5)
    if kind == "证":
        return Identifier("icp_licence", f"{province}ICP证{digits}号", province in ICP_PROVINCES and len(digits) == 6)
    # 10 digits: a 4-digit year and a serial (since about 2019); 8: older, the first two digits a year; 6: oldest
    shape_ok = 2000 <= int(digits[:4]) <= today.year if len(digits) == 10 else len(digits) in (6, 8)
    value = f"{province}ICP备{digits}号" + (f"-{int(site)}" if site else "")
    return Identifier("icp", value, province in ICP_PROVINCES and shape_ok)


def _ad_cert_identifier(value: str, certificates: AdCertificates | None, today: date) -> tuple[Identifier, str | None]:
    """The identifier of an ad certificate number and the adcert rule it breaks (None when it is in order)."""
    year = ad_cert_year(value)
    if year > today.year:
        return Identifier("ad_cert", value, False), "adcert.unknown"
    if certificates is not None and len(certificates) > 0:
        certificate = certificates.get(value)
        if certificate is None:
            return Identifier("ad_cert", value, False), "adcert.unknown"
        if certificate.expired(today):
            return Identifier("ad_cert", value, False), "adcert.expired"
        if certificate.valid_until is not None:
            return Identifier("ad_cert", value, True), None
    if year < today.year - 1:  # valid for one year from issue: nothing from before last year is still valid
        return Identifier("ad_cert", value, False), "adcert.expired"
    return Identifier("ad_cert", value, True if certificates else None), None


def find_identifiers(text: NormalisedText, *, today: date | None = None) -> list[FoundIdentifier]:
    """Every registration number in ``text`` with its original span, by position. Ad certificate numbers are
    reported with ``valid`` from the year alone; `IdentifierSignal` checks them against the imported list."""
    today = today or date.today()
    view = text.digits
    found: list[FoundIdentifier] = []

    def add(identifier: Identifier, vstart: int, vend: int) -> None:
        found.append(FoundIdentifier(identifier, *text.digits_span(vstart, vend)))

    # Each pattern needs a literal (checked first: the patterns start with classes or lookbehinds, which the
    # regex engine cannot skip ahead to) -- the same matches, without scanning pages that cannot have any.
    for m in _ICP.finditer(view) if "icp" in view else ():
        add(_icp(m, today), m.start(), m.end())
    for m in _POLICE.finditer(view) if "公网安备" in view else ():
        province, digits = m.group(1), m.group(2)
        valid = PROVINCE_CODES.get(province) == digits[:2]
        add(Identifier("police_filing", f"{province}公网安备{digits}号", valid), m.start(), m.end())
    for m in _DRUG_INFO.finditer(view) if "经营性" in view else ():
        province, kind, year, serial = m.groups()
        valid = province in PROVINCE_CODES and 2000 <= int(year) <= today.year
        add(Identifier("drug_info", f"({province})-{kind}-{year}-{serial}", valid), m.start(), m.end())
    for m in _AD_CERT.finditer(view) if "医" in view else ():
        identifier, _rule = _ad_cert_identifier(_ad_cert_value(m), None, today)
        add(identifier, m.start(), m.end())
    for m in _USCC.finditer(view) if _SIX_DIGITS.search(view) else ():
        code = m.group(1).upper()
        cued = _USCC_CUE.search(view[max(0, m.start() - _USCC_CUE_WINDOW) : m.start()]) is not None
        valid = uscc_valid(code)
        if cued or (valid and not resident_id_valid(code)):
            add(Identifier("uscc", code, valid), m.start(1), m.end(1))
    found.sort(key=lambda f: (f.start, f.end, f.identifier.kind))
    return found


# --- the signal ---------------------------------------------------------------------------------------------


def _presents_as_hospital(text: NormalisedText) -> bool:
    first_line = text.original.lstrip().split("\n", 1)[0]
    return _HOSPITAL_TITLE.search(normalise(first_line).skeleton) is not None


class IdentifierSignal:
    """Landline and toll-free contacts, registration numbers, and the evidence they give (module docstring).

    Medical ads (`MedicalAdCues`, data file ``medical_ad_cues.txt``): a page that is an ad and shows no
    certificate number is ``adcert.missing``; a number absent from ``certificates`` (when a list has been
    imported: ``len(certificates) > 0``) or dated after today is ``adcert.unknown``; a number whose listed
    ``valid_until`` has passed, or whose year is before last year, is ``adcert.expired``. Without a list, unknown
    cannot be judged. Unknown and expired numbers are evidence on any page (a page showing a certificate number
    advertises); missing only on pages the cue list calls an ad.

    ``today`` fixes the date the checks use (default: the day the signal is built); ``hotlines`` the official
    numbers never reported (default: the bundled ``official_hotlines.txt``).
    """

    name = "identifiers"

    def __init__(
        self,
        *,
        certificates: AdCertificates | None = None,
        hotlines: frozenset[str] | None = None,
        ad_cues: MedicalAdCues | None = None,
        today: date | None = None,
    ) -> None:
        self.certificates = certificates
        self.hotlines = load_official_hotlines() if hotlines is None else hotlines
        self.ad_cues = ad_cues or _default_ad_cues()
        self.today = today or date.today()

    def evaluate(self, page: PageInput, normalised: NormalisedText) -> SignalOutput:
        found = find_identifiers(normalised, today=self.today)
        reasons: list[SignalReason] = []
        identifiers: dict[tuple[str, str], Identifier] = {}
        certificate_shown = False
        for item in found:
            identifier = item.identifier
            if identifier.kind == "ad_cert":
                certificate_shown = True
                identifier, rule = _ad_cert_identifier(identifier.value, self.certificates, self.today)
                if rule is not None:
                    reasons.append(self._reason(rule, page.text, item.start, item.end, _AD_CATEGORIES))
            identifiers.setdefault((identifier.kind, identifier.value), identifier)

        hospital = _presents_as_hospital(normalised)
        for (kind, value), identifier in identifiers.items():
            if kind != "uscc":
                continue
            span = next((f.start, f.end) for f in found if f.identifier.value == value)
            if not identifier.valid:
                reasons.append(self._reason("fake.uscc_invalid", page.text, *span, _FAKE_CATEGORIES))
            elif hospital and value.startswith("92"):
                reasons.append(self._reason("fake.uscc_individual_hospital", page.text, *span, _FAKE_CATEGORIES))

        phones = find_phone_contacts(normalised, hotlines=self.hotlines, exclude=[(f.start, f.end) for f in found])
        for phone in phones:
            reasons.append(self._reason(f"contact.{phone.kind}", page.text, phone.start, phone.end, ()))
        tollfree = next((p for p in phones if p.kind == "tollfree"), None)
        if tollfree is not None and hospital:
            reasons.append(
                self._reason("fake.tollfree_hospital", page.text, tollfree.start, tollfree.end, _FAKE_CATEGORIES)
            )

        if not certificate_shown:
            is_ad, cues = self.ad_cues.is_ad(normalised)
            if is_ad:
                text = "医疗广告未见审查证明文号: " + "、".join(cues)
                reasons.append(
                    SignalReason("adcert.missing", text, -1, -1, WEIGHTS["adcert.missing"], "core", _AD_CATEGORIES)
                )

        contacts = {kind: sorted({p.value for p in phones if p.kind == kind}) for kind in ("landline", "tollfree")}
        return SignalOutput(
            reasons=tuple(reasons),
            contacts=contacts,
            contact_sources={f"{p.kind}:{p.value}": "text" for p in phones},
            identifiers=tuple(identifiers.values()),
        )

    @staticmethod
    def _reason(rule_id: str, text: str, start: int, end: int, categories: tuple[str, ...]) -> SignalReason:
        kind = "contact" if rule_id.startswith("contact.") else "core"
        return SignalReason(rule_id, text[start:end], start, end, WEIGHTS[rule_id], kind, categories)


@cache
def _default_ad_cues() -> MedicalAdCues:
    return load_medical_ad_cues()
