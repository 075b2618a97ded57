"""Alerts: checks over crawl runs and new hits (zero items, error spikes, login walls, missed schedules,
urgent hits, the daily digest), kept apart from the channels that deliver them (e-mail, DingTalk, WeCom).
Empty until the unattended-operation issue lands; the crawl already records the figures the checks read."""
