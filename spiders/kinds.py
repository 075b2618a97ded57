"""Which spider crawls which source kind (``sources[].kind`` in config.yaml)."""

from __future__ import annotations

import scrapy

from spiders.classifieds import ClassifiedsSpider
from spiders.douyin import DouyinSpider
from spiders.search import SearchSpider
from spiders.site import SiteSpider
from spiders.tieba import TiebaSpider
from spiders.wechat import WechatSpider
from spiders.weibo import WeiboSpider
from spiders.xiaohongshu import XiaohongshuSpider

SPIDERS: dict[str, type[scrapy.Spider]] = {
    "site": SiteSpider,
    "search": SearchSpider,
    "classifieds": ClassifiedsSpider,
    "wechat": WechatSpider,
    "weibo": WeiboSpider,
    "tieba": TiebaSpider,
    "xiaohongshu": XiaohongshuSpider,
    "douyin": DouyinSpider,
}


def spider_for(kind: str) -> type[scrapy.Spider]:
    return SPIDERS[kind]
