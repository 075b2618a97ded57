"""Accounts as the rest of the system sees them: look a user up by name and check a role. Password hashing
and sessions belong to the web app (``review/``); commands that act for a person (``--as USER``) only need
to know that the account exists, is active and may do the action."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.errors import AccessError
from storage.models import USER_ROLES, User

# Which roles may act as which: a supervisor may do everything an analyst may.
ROLE_RANK = {"analyst": 1, "supervisor": 2}


def get_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def require_user(session: Session, name: str, role: str = "analyst") -> User:
    """The active account ``name`` with at least ``role``; otherwise a ConfigError with a clear message."""
    if role not in USER_ROLES:
        raise ValueError(f"unknown role {role!r}")
    user = get_user(session, name)
    if user is None or not user.active:
        raise AccessError(f"--as: no active user named {name!r} (add one with: touthunt user add NAME --role ...)")
    if ROLE_RANK[user.role] < ROLE_RANK[role]:
        raise AccessError(f"--as: user {name!r} is {user.role}; this needs a {role}")
    return user
