"""Retrying a database operation while the database is locked or briefly unavailable.

SQLite already waits ``busy_timeout_seconds`` for a lock; a writer that holds it longer (a backup, a long
batch) or a database server that restarts surfaces as ``OperationalError``. Long-running work (the
scheduler's jobs, the lease heartbeat, alert bookkeeping) wraps its transactions in :func:`with_retry`:
each failure is logged with the attempt number and the wait, waits grow exponentially, and the last error
is raised as a ``StorageError`` naming the operation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from crawler.errors import StorageError

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """Locked, busy, or a lost/refused connection: worth trying again."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def with_retry(
    operation: Callable[[], T],
    *,
    what: str,
    attempts: int = 5,
    first_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation`` (one whole transaction), again after a transient database error."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except (DBAPIError, StorageError) as exc:
            cause = exc if isinstance(exc, DBAPIError) else exc.__cause__  # storage.db wraps migration errors
            if not isinstance(cause, DBAPIError) or not is_transient(cause):
                raise
            if attempt == attempts:
                raise StorageError(
                    f"{what}: database still unavailable after {attempts} attempts: {cause.orig}"
                ) from exc
            log.warning(
                "%s: database unavailable (%s); attempt %d of %d, retrying in %.1f s",
                what,
                cause.orig,
                attempt,
                attempts,
                delay,
            )
            sleep(delay)
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")
