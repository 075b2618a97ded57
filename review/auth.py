"""Accounts and sessions of the web app: argon2 password hashes, signed session cookies, CSRF tokens and the
login rate limit.

A session is a cookie signed with the app secret (itsdangerous) holding the user id, a CSRF token, a
fingerprint of the password hash and the account's session epoch, so changing a password or logging out
(which raises the epoch) ends the account's sessions everywhere; it expires after ``web.session_hours``. The
secret comes from the environment variable named by ``web.secret_env``, or is generated once into
``<var_dir>/web_secret`` for single-machine use. Failed logins are counted per account and
per client address in a sliding window (`LoginLimiter`, in the process's memory).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.errors import AccessError, ConfigError
from storage import audit
from storage.models import USER_ROLES, User
from storage.users import get_user

SESSION_COOKIE = "touthunt_session"
LOGIN_COOKIE = "touthunt_login"  # carries the login form's CSRF token before there is a session
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
NAME_PATTERN = r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{1,64}$"

_hasher = PasswordHasher()
# verifying against this when the account does not exist keeps the answer time the same
_DUMMY_HASH = _hasher.hash("touthunt-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccessError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password) > MAX_PASSWORD:
        raise AccessError(f"密码最多 {MAX_PASSWORD} 个字符")


def add_user(session: Session, name: str, role: str, password: str, *, actor: str = "system") -> User:
    """Create an account (or reset the password and role of an existing one), audited. The caller commits."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise AccessError(f"用户名 {name!r} 无效 (字母、数字、汉字、_ . -，至多 64 个字符)")
    if role not in USER_ROLES:
        raise AccessError(f"角色 {role!r} 无效 (analyst 或 supervisor)")
    check_new_password(password)
    user = get_user(session, name)
    created = user is None
    if user is None:
        user = User(name=name, role=role)
        session.add(user)
    user.role = role
    user.active = True
    user.password_hash = hash_password(password)
    user.session_epoch = (user.session_epoch or 0) + 1
    session.flush()
    audit.record(session, actor, "user_add", f"user:{name}", role=role, created=created)
    return user


def load_secret(config: Config) -> str:
    """The cookie-signing secret: the environment variable ``web.secret_env``, else ``<var_dir>/web_secret``
    (created with a random value, readable by the owner only)."""
    value = os.environ.get(config.web.secret_env, "")
    if value:
        if len(value) < 16:
            raise ConfigError(f"web.secret_env: the secret in {config.web.secret_env!r} is shorter than 16 characters")
        return value
    path = config.var_dir / "web_secret"
    try:
        if path.is_file():
            stored = path.read_text(encoding="ascii").strip()
            if len(stored) >= 32:
                return stored
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(fresh + "\n")
        return fresh
    except OSError as exc:
        raise ConfigError(
            f"web.secret_env: {config.web.secret_env!r} is unset and {path} cannot be used: {exc}"
        ) from exc


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SessionData:
    user_id: int
    name: str
    csrf: str
    fingerprint: str
    epoch: int


class SessionCodec:
    """Signs and reads the session and login cookies."""

    def __init__(self, secret: str, *, max_age_seconds: float) -> None:
        self._sessions = URLSafeTimedSerializer(secret, salt="touthunt-session")
        self._login = URLSafeTimedSerializer(secret, salt="touthunt-login")
        self.max_age = int(max_age_seconds)

    def issue(self, user: User) -> tuple[str, SessionData]:
        data = SessionData(
            user.id, user.name, secrets.token_urlsafe(32), _fingerprint(user.password_hash), user.session_epoch or 0
        )
        token = self._sessions.dumps(
            {"u": data.user_id, "n": data.name, "c": data.csrf, "f": data.fingerprint, "e": data.epoch}
        )
        return token, data

    def read(self, token: str | None) -> SessionData | None:
        if not token or len(token) > 4096:
            return None
        try:
            raw: Any = self._sessions.loads(token, max_age=self.max_age)
            return SessionData(int(raw["u"]), str(raw["n"]), str(raw["c"]), str(raw["f"]), int(raw["e"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    def still_valid(self, data: SessionData, user: User | None) -> bool:
        """The account exists, is active, and neither its password nor its session epoch changed since the login."""
        return (
            user is not None
            and user.active
            and user.id == data.user_id
            and (user.session_epoch or 0) == data.epoch
            and hmac.compare_digest(_fingerprint(user.password_hash), data.fingerprint)
        )

    def login_token(self) -> tuple[str, str]:
        """(cookie value, CSRF token) for a login form."""
        csrf = secrets.token_urlsafe(32)
        return self._login.dumps(csrf), csrf

    def read_login_token(self, token: str | None) -> str | None:
        if not token or len(token) > 1024:
            return None
        try:
            value = self._login.loads(token, max_age=3600)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


class LoginLimiter:
    """At most ``max_failures`` failed logins per key (``user:NAME``, ``ip:ADDRESS``) within ``window_seconds``;
    thread-safe, in memory (one process)."""

    def __init__(self, max_failures: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        entries = self._failures.setdefault(key, deque())
        while entries and entries[0] <= now - self.window:
            entries.popleft()
        return entries

    def blocked_for(self, *keys: str) -> float:
        """Seconds until a login for these keys may be tried again (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [
                entries[0] + self.window - now
                for key in keys
                if len(entries := self._recent(key, now)) >= self.max_failures
            ]
            if len(self._failures) > 100_000:  # bound the memory an attacker can make us hold
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
