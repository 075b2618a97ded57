"""Alerts: checks over crawl runs and new hits (zero items, error spikes, login walls, missed schedules,
urgent hits, the daily digest, an invalid configuration), kept apart from the channels that deliver them
(e-mail, DingTalk and WeCom robots).

    alerts/message.py   the Alert a check produces, rendered as plain text (mail) or Markdown (robots)
    alerts/checks.py    the checks: database in, alerts out; nothing is sent there
    alerts/digest.py    the daily digest
    alerts/channels.py  the channels: an alert in, one delivery out (or an error)
    alerts/deliver.py   every alert over every enabled channel, each attempt recorded in alert_deliveries
"""
