"""Cron text as users write it for crontab: weekday 0 and 7 are Sunday (APScheduler 3 alone would read 0 as
Monday); invalid text is refused when the configuration is read, naming the key."""

from __future__ import annotations

from datetime import datetime

import pytest

from crawler.config import parse_config
from crawler.crontab import cron_trigger
from crawler.errors import ConfigError

MONDAY = datetime.fromisoformat("2026-11-23T00:00:00+08:00")


@pytest.mark.parametrize(
    ("text", "next_fire"),
    [
        ("0 6 * * 0", "2026-11-29T06:00:00+08:00"),  # Sunday
        ("0 6 * * 7", "2026-11-29T06:00:00+08:00"),  # Sunday too
        ("0 6 * * 1-5", "2026-11-23T06:00:00+08:00"),  # Monday
        ("0 6 * * 6,0", "2026-11-28T06:00:00+08:00"),  # Saturday
        ("0 6 * * */2", "2026-11-24T06:00:00+08:00"),  # Sun, Tue, Thu, Sat
        ("0 6 * * sat", "2026-11-28T06:00:00+08:00"),  # names pass unchanged
        ("*/15 3 * * *", "2026-11-23T03:00:00+08:00"),
    ],
)
def test_weekdays_as_in_crontab(text: str, next_fire: str) -> None:
    trigger = cron_trigger(text, "Asia/Shanghai")
    assert trigger.get_next_fire_time(None, MONDAY) == datetime.fromisoformat(next_fire)


@pytest.mark.parametrize("text", ["0 6 * *", "0 25 * * *", "0 6 * * 8", "0 6 * * 5-1", "x 6 * * *"])
def test_invalid_cron_text_names_the_key(text: str) -> None:
    with pytest.raises(ConfigError, match=r"sources\[0\]\.schedule"):
        parse_config({"sources": [{"name": "a", "start_urls": ["http://a.cn/"], "schedule": text}]})


def test_scheduler_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"scheduler\.timezone: 'Mars/Base' is not allowed"):
        parse_config({"scheduler": {"timezone": "Mars/Base"}})
    with pytest.raises(ConfigError, match=r"scheduler\.digest_schedule"):
        parse_config({"scheduler": {"digest_schedule": "every day"}})
    with pytest.raises(ConfigError, match="an enabled e-mail channel needs the SMTP host"):
        parse_config({"alerts": {"email": {"enabled": True, "recipients": ["a@b.cn"]}}})
