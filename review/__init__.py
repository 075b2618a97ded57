"""The analysts' web app: a server-rendered FastAPI + Jinja2 application in Chinese (`review.app.create_app`)
for the daily hit list, hit detail and verdicts, lexicon and allow-list edits, dashboards and the audit log,
with its accounts, sessions and security headers (`review.auth`), and the ``user``, ``review`` and ``web``
commands (`review.cli`)."""
