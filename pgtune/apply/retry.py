"""One routine for lock timeouts: try again with a doubling pause, capped at MAX_WAIT_S, a bounded number of times.

A DDL that waits for a lock past lock_timeout gives up rather than queue the
application behind it; apply tries it again a little later, since what held
the lock is usually short-lived, and stops after ``retries`` with one line. A deadlock is retried the same way:
an application's ALTER TABLE queued behind a concurrent build that then waits for it (p23) is over on the next try.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from psycopg import errors as pgerrors

from .._text import Progress, one_line
from ..errors import ApplyFailed
from .waits import LockWaitTimeout

T = TypeVar("T")
MAX_WAIT_S = 60.0     # each pause at most a minute: uncapped, --retries 12's last was 2048 s (c25)


class LockRetry:
    def __init__(self, retries: int, backoff: float, say: Progress, max_wait: float = MAX_WAIT_S) -> None:
        self.retries, self.backoff, self.say, self.max_wait = retries, backoff, say, max_wait
        self.told: list[str] = []     # each lock wait retried past, for the report's warnings (p23: CI saw none)

    def run(self, attempt: Callable[[], T], *, give_up: Callable[[int, str], ApplyFailed], what: str = "",
            retries: int | None = None) -> T:
        """``attempt()`` until it does not time out on a lock; ``give_up(retries, why)`` is raised after the last try.

        ``why`` is the last timeout's own line (the watch's names the lock and
        its holder); each line says whether it was a lock timeout or a deadlock, and each pause doubles from
        ``backoff`` up to ``max_wait``. ``attempt`` cleans up after its own timeout (a failed
        build's INVALID index) before it re-raises it.
        """
        limit = self.retries if retries is None else retries
        tries, why, kind, started = 0, "", "", time.monotonic()
        while True:
            try:
                result = attempt()
            except (pgerrors.LockNotAvailable, pgerrors.DeadlockDetected, LockWaitTimeout) as exc:
                why = one_line(str(exc), 300)
                kind = "deadlock" if isinstance(exc, pgerrors.DeadlockDetected) else "lock timeout"   # say which
                tries += 1
                if tries > limit:
                    raise give_up(limit, why) from None
                wait = min(self.backoff * 2 ** (tries - 1), self.max_wait)
                self.say(f"{kind}{' ' + what if what else ''} ({why}); retry {tries}/{limit} in {wait:.1f}s")
                time.sleep(wait)
                continue
            if tries:
                last = "deadlock" if kind == "deadlock" else "timeout"
                self.told.append(f"{kind}{' ' + what if what else ''}: done on try {tries + 1}, "
                                 f"{time.monotonic() - started:.0f}s in all (the last {last}: {why})")
            return result
