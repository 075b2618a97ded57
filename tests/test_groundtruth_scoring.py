"""Every page of the replay web, extracted and scored exactly as the crawl does it (decode, visible text,
scorer), against the ground truth: hit, category and contacts. Fast enough to run on every change to the
lexicon; the crawl end-to-end test checks the same through the whole pipeline."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from keywords import load_scorer
from replayweb import load_ground_truth, load_web
from spiders.decoding import decode_body
from spiders.extract import html_to_text
from spiders.serp import engine_of_url

# Search engines' result and jump pages are never scored by the crawl (their results are stored as
# serp_results and their targets scored as pages), so they are not scored here either; pages whose content
# only exists after their scripts run are checked rendered, in tests/test_render.py.
TRUTH = [
    entry
    for entry in load_ground_truth()
    if not entry.failure and not entry.render and engine_of_url(entry.url) is None
]


@pytest.fixture(scope="module")
def scorer() -> Any:
    return load_scorer(hit_threshold=50)


@pytest.fixture(scope="module")
def web() -> Any:
    return load_web()


def page_text(web: Any, url: str) -> str:
    parts = urlsplit(url)
    site = web.site(parts.hostname)
    route = site.lookup(parts.path + (f"?{parts.query}" if parts.query else ""))
    while route.is_redirect:
        target = urlsplit(route.redirect)
        route = site.lookup(target.path or "/")
    html, _encoding = decode_body(route.body, route.header_content_type)
    return html_to_text(html)[1]


@pytest.mark.parametrize("entry", TRUTH, ids=[e.url.removeprefix("http://") for e in TRUTH])
def test_page_scores_as_labelled(entry: Any, scorer: Any, web: Any) -> None:
    result = scorer.score(page_text(web, entry.url), url=entry.url)
    assert (result.hit, result.category if result.hit else None) == (
        entry.hit,
        entry.category if entry.hit else None,
    ), f"score {result.score}: " + ", ".join(f"{r.rule_id}({r.weight:+g})" for r in result.reasons)
    # the ground truth records mobile, WeChat and QQ contacts; landlines and 400 numbers are checked elsewhere
    assert {k: sorted(result.contacts[k]) for k in ("mobile", "wechat", "qq")} == {
        k: sorted(v) for k, v in entry.contacts.as_dict().items()
    }
