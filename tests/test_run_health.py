"""Source-health figures a run records from its crawl stats."""

from __future__ import annotations

import pytest

from crawler.runrecorder import run_health


def test_ok_run_counts_requests_items_and_extra_figures() -> None:
    stats = {
        "downloader/request_count": 12,
        "item_scraped_count": 9,
        "touthunt/blocked/captcha": 1,
        "touthunt/health/serp_results": 30,
    }
    health = run_health(stats, obey_robots=True)
    assert (health.requests, health.items, health.blocked, health.source_state) == (12, 9, 1, "ok")
    assert health.robots_obeyed is True
    assert health.extra == {"blocked_captcha": 1, "serp_results": 30}


@pytest.mark.parametrize(
    ("stats", "state"),
    [
        ({"downloader/request_count": 3}, "empty"),
        ({"downloader/request_count": 3, "touthunt/blocked/login_wall": 2}, "login_wall"),
        ({"downloader/request_count": 3, "touthunt/blocked/captcha": 3}, "captcha"),
        ({"downloader/request_count": 3, "touthunt/blocked/http_403": 3}, "blocked"),
        ({"item_scraped_count": 4, "touthunt/source_state": "parser_failure"}, "parser_failure"),
    ],
)
def test_state_says_why_a_run_found_nothing(stats: dict[str, object], state: str) -> None:
    assert run_health(stats, obey_robots=False).source_state == state


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown source state"):
        run_health({"touthunt/source_state": "weird"}, obey_robots=None)
