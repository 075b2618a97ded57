"""Which authority a hit is referred to, what the authority acts on, and where a site's ICP filing sends it.

The rule (one place; the batch-less ``touthunt export`` and the batches both use it):

* **samr** (market regulation) -- every hit of category ``illegal_medical_ad``: the ad is the offence.
* **cac** (网信) -- other hits on a *platform* (``referrals/data/platforms.txt`` plus
  ``referrals.platform_domains``): the platform removes the content; the target is the content URL.
* **miit** (通信管理局) -- other hits on stand-alone sites, which exist to sell slots or tout: the bureau
  acts on the site through its ICP filing, so the target is the registrable domain (one row per domain),
  with the ICP number the site shows and the province that number routes to.
* **police** (公安) -- in addition to the above, scalper and tout hits (``scalper_service``,
  ``medical_tout``) that show a personal contact (mobile number, WeChat or QQ ID): reselling slots for a fee
  and luring patients through personal accounts is the fraud and order-disturbing conduct the police
  pursue, and the contact is the lead that identifies the operator. A hit may therefore be referred to
  police and to cac or miit; it is referred once per authority.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from referrals.platforms import is_platform
from storage.models import Hit, Identifier, Page

AUTHORITY_CODES = ("cac", "miit", "samr", "police")
PERSONAL_CONTACTS = ("mobile", "wechat", "qq")
POLICE_CATEGORIES = ("scalper_service", "medical_tout")

# ICP filing prefix -> the province-level region whose communications administration holds the filing.
ICP_REGIONS = {
    "京": "北京市", "津": "天津市", "沪": "上海市", "渝": "重庆市", "冀": "河北省", "豫": "河南省", "滇": "云南省",
    "辽": "辽宁省", "黑": "黑龙江省", "湘": "湖南省", "皖": "安徽省", "鲁": "山东省", "新": "新疆维吾尔自治区",
    "苏": "江苏省", "浙": "浙江省", "赣": "江西省", "鄂": "湖北省", "桂": "广西壮族自治区", "陇": "甘肃省",
    "晋": "山西省", "蒙": "内蒙古自治区", "陕": "陕西省", "吉": "吉林省", "闽": "福建省", "黔": "贵州省",
    "粤": "广东省", "青": "青海省", "藏": "西藏自治区", "蜀": "四川省", "宁": "宁夏回族自治区", "琼": "海南省",
}  # fmt: skip


def authorities_for(hit: Hit, platforms: frozenset[str]) -> tuple[str, ...]:
    """Every authority ``hit`` goes to, in AUTHORITY_CODES order."""
    found = set()
    if hit.category == "illegal_medical_ad":
        found.add("samr")
    else:
        found.add("cac" if is_platform(hit.page.domain, platforms) else "miit")
    if hit.category in POLICE_CATEGORIES and any(c.kind in PERSONAL_CONTACTS for c in hit.page.contacts):
        found.add("police")
    return tuple(a for a in AUTHORITY_CODES if a in found)


def routes_to(hit: Hit, authority: str, platforms: frozenset[str]) -> bool:
    return authority in authorities_for(hit, platforms)


def target_of(hit: Hit, authority: str) -> str:
    """What the authority acts on: the registrable domain for miit, the content URL otherwise."""
    return hit.page.registrable_domain if authority == "miit" else hit.page.final_url


@dataclass(frozen=True)
class IcpRouting:
    numbers: tuple[str, ...]  # as shown on the site (normalised), most frequent first
    region: str  # 北京市 ...; "" when the site shows no (recognisable) number
    bureau: str  # 北京市通信管理局 ...; "" when unknown


def icp_region(number: str) -> str:
    return ICP_REGIONS.get(number[:1], "")


def icp_for_domain(session: Session, registrable_domain: str) -> IcpRouting:
    """The ICP numbers shown on any stored page of the domain, and the region the most frequent one names."""
    rows = session.execute(
        select(Identifier.value)
        .join(Page, Page.id == Identifier.page_id)
        .where(Page.registrable_domain == registrable_domain, Identifier.kind.in_(("icp", "icp_licence")))
    ).scalars()
    counts = Counter(rows)
    numbers = tuple(n for n, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    region = next((icp_region(n) for n in numbers if icp_region(n)), "")
    return IcpRouting(numbers, region, f"{region}通信管理局" if region else "")


def split_by_authority(hits: Sequence[Hit], platforms: frozenset[str]) -> dict[str, list[Hit]]:
    grouped: dict[str, list[Hit]] = {a: [] for a in AUTHORITY_CODES}
    for hit in hits:
        for authority in authorities_for(hit, platforms):
            grouped[authority].append(hit)
    return grouped
