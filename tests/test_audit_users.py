"""The audit log appends; ``--as USER`` resolves to an active account with the needed role."""

from __future__ import annotations

import pytest

from crawler.errors import AccessError
from storage import audit
from storage.models import User
from storage.users import require_user


def test_events_come_back_newest_first(sessions) -> None:
    with sessions.begin() as session:
        audit.record(session, "wang", "login")
        audit.record(session, "wang", "verdict", "hit:3", verdict="confirmed")
    with sessions() as session:
        got = [(e.actor, e.action, e.target, e.detail) for e in audit.events(session)]
    assert got == [("wang", "verdict", "hit:3", {"verdict": "confirmed"}), ("wang", "login", "", {})]


def test_unknown_action_is_refused(sessions) -> None:
    with sessions.begin() as session, pytest.raises(ValueError, match="unknown audit action"):
        audit.record(session, "wang", "delete_everything")


def test_require_user_checks_existence_activity_and_role(sessions) -> None:
    with sessions.begin() as session:
        session.add_all([
            User(name="li", role="analyst"),
            User(name="zhao", role="supervisor"),
            User(name="gone", role="supervisor", active=False),
        ])  # fmt: skip
    with sessions() as session:
        assert require_user(session, "li").name == "li"
        assert require_user(session, "zhao", "supervisor").role == "supervisor"
        with pytest.raises(AccessError, match="this needs a supervisor"):
            require_user(session, "li", "supervisor")
        with pytest.raises(AccessError, match="no active user named 'gone'"):
            require_user(session, "gone")
        with pytest.raises(AccessError, match="no active user named 'nobody'"):
            require_user(session, "nobody")
