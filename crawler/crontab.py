"""5-field cron text (``minute hour day month weekday``) as APScheduler 3 triggers, with crontab's weekday
numbers: APScheduler 3 reads ``0`` as Monday, crontab as Sunday (``0`` and ``7``). Numeric weekday fields
are rewritten as day names, which both read the same way; named fields (``mon-fri``) pass unchanged."""

from __future__ import annotations

import re
from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_PART = re.compile(r"^(?:(\*)|(\d+)(?:-(\d+))?)(?:/(\d+))?$")


def _weekday_field(field: str) -> str:
    """Crontab weekday text -> an explicit list of day names (``*`` and named fields unchanged)."""
    if field in ("*", "?") or re.search(r"[a-zA-Z]", field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        match = _PART.match(part)
        if not match:
            raise ValueError(f"weekday {field!r}: cannot read {part!r}")
        star, first, last, step = match.groups()
        step_n = int(step) if step else 1
        if step_n < 1:
            raise ValueError(f"weekday {field!r}: step must be at least 1")
        if star:
            low, high = 0, 6
        else:
            low = int(first)
            high = int(last) if last is not None else (6 if step else low)
        if not (0 <= low <= 7 and 0 <= high <= 7) or low > high:
            raise ValueError(f"weekday {field!r}: {part!r} is outside 0-7 or reversed")
        days.update(day % 7 for day in range(low, high + 1, step_n))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def cron_trigger(text: str, timezone: tzinfo | str) -> CronTrigger:
    """A trigger for 5-field cron text; raises ValueError naming the problem."""
    fields = text.split()
    if len(fields) != 5:
        raise ValueError("cron text needs 5 fields: minute hour day month weekday")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=_weekday_field(weekday), timezone=timezone
    )
