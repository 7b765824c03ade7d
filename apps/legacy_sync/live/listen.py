"""The pull woken by v1's writes instead of a fixed interval (``manage.py legacy_pull_listen``).

On a PostgreSQL v1 a trigger (v1/schema.py: ``pull_notify_install``) notifies
PULL_NOTIFY_CHANNEL when v1 commits new rows. The listener holds one connection that LISTENs,
and on a notification runs the pull's own service (``legacy_pull_locked``: the same flags, the
same lock as the beat's task). Bursts coalesce: one pull runs at a time, the notifications that
arrive meanwhile make exactly one more pull after it, however many there were.

The learner states the pulled attempts touch are replayed by a second thread
(``learner_states_catch_up``, under the learners' write locks), so the next pull does not wait
for that replay; the catch-ups queue up in order and the queue is finished before it stops.

It converges without notifications too: every ``fallback_s`` it pulls anyway (a notification
lost while it was reconnecting, a v1 without the trigger, or a SQLite v1, which is only
polled). A dropped connection is reopened with backoff, followed by a pull. A failed pull is
logged and retried with backoff; the process keeps running.
"""

import contextlib
import logging
import threading
import time
from dataclasses import dataclass

from django.db import close_old_connections, connections

from ..backfill.learner_states import learner_states_catch_up
from ..v1.gateway import V1, v1_is_postgres
from ..v1.schema import PULL_NOTIFY_CHANNEL, PULL_NOTIFY_TABLES, pull_notify_installed
from .pull import DUAL_WRITE_OFF, KILL_SWITCH_ON, PullWindow, legacy_pull_locked

log = logging.getLogger(__name__)

WAIT_SLICE_S = 0.5  # the longest a wait blocks before it looks at the stop event
BUSY_RETRY_S = 0.05  # another pull (the beat's) holds the lock: try again soon after it
BACKOFF_MAX_S = 30.0

PAUSED = {
    KILL_SWITCH_ON: "v1 pull paused: the kill switch is on (legacy_flags --kill-switch off)",
    DUAL_WRITE_OFF: (
        "v1 pull paused: dual write is off, v1 is not live (legacy_flags --dual-write on)"
    ),
}


@dataclass
class ListenerStats:
    notifications: int = 0  # notifications received
    pulls: int = 0  # pulls run (not skipped for a busy lock)
    polls: int = 0  # pulls started by the fallback interval, not by a notification
    reconnects: int = 0
    failures: int = 0
    caught_up: int = 0  # released rows whose learners' states were replayed


class PullListener:
    """``run`` until ``stop`` is set. ``pull`` is the pull service (a test may wrap it)."""

    def __init__(self, *, fallback_s: float, alias: str = V1, pull=legacy_pull_locked):
        self.fallback_s = fallback_s
        self.alias = alias
        self.pull = pull
        self.stats = ListenerStats()
        self.notifying = v1_is_postgres(alias)
        self.listening = threading.Event()  # set while LISTEN is active (tests wait on it)
        self._conn = None
        self._stop = threading.Event()
        self._paused = ""
        self._backoff = 0.0
        self._released: list[str] = []  # rows waiting for the catch-up thread
        self._released_ready = threading.Condition()
        self._closing = False

    # --- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        stop = self._stop = stop or threading.Event()
        if self.notifying:
            missing = set(PULL_NOTIFY_TABLES) - set(pull_notify_installed(alias=self.alias))
            if missing:
                log.warning(
                    "v1 tables without the pull's notify trigger (%s): their rows arrive by the "
                    "fallback poll every %s s; install it with legacy_pull_notify_install",
                    ", ".join(sorted(missing)), self.fallback_s,
                )  # fmt: skip
        else:
            log.info("v1 is not PostgreSQL: polling it every %s s", self.fallback_s)
        window, pending = PullWindow(), True  # first, whatever came while nobody listened
        next_poll = 0.0
        catching_up = threading.Thread(target=self._catch_up_loop, name="legacy-pull-catch-up")
        catching_up.start()
        try:
            while not stop.is_set():
                if self.notifying and self._conn is None and not self._connect(stop):
                    continue
                if not pending and time.monotonic() >= next_poll:
                    pending = True
                    self.stats.polls += 1
                if pending:
                    self._drain()  # what arrived up to now is in this pull
                    next_poll = time.monotonic() + self.fallback_s
                    outcome = self._pull(window)
                    if outcome == "busy":
                        stop.wait(BUSY_RETRY_S)
                        continue
                    if outcome == "failed":
                        window = PullWindow()
                        stop.wait(self._backoff_next())
                        continue
                    pending = False
                    self._backoff = 0.0
                pending = self._wait(min(next_poll - time.monotonic(), WAIT_SLICE_S))
        finally:
            self._disconnect()
            connections.close_all()
            with self._released_ready:
                self._closing = True
                self._released_ready.notify()
            catching_up.join()

    def _pull(self, window: PullWindow) -> str:
        close_old_connections()  # CONN_MAX_AGE and broken connections, as between requests
        try:
            report = self.pull(window=window, catch_up=False)
        except Exception:
            self.stats.failures += 1
            log.exception("v1 pull failed; retrying in %.0f s", self._backoff_next(peek=True))
            connections.close_all()
            return "failed"
        if report is None:
            return "busy"
        self.stats.pulls += 1
        if report.released:
            with self._released_ready:
                self._released += report.released
                self._released_ready.notify()
        if report.skipped != self._paused:
            if report.skipped:
                log.warning(PAUSED[report.skipped])
            else:
                log.info("v1 pull resumed")
            self._paused = report.skipped
        if report.total or report.completions:
            log.debug("pulled %s, %s completions", report.pulled, report.completions)
        return "done"

    def _catch_up_loop(self) -> None:
        """Replay the states of what the pulls released, oldest first, until closing and
        nothing is left. A failure keeps the rows for the next round."""
        backoff = 0.0
        while True:
            with self._released_ready:
                while not self._released and not self._closing:
                    self._released_ready.wait(WAIT_SLICE_S)
                if not self._released:
                    break
                released, self._released = self._released, []
            close_old_connections()
            try:
                learner_states_catch_up(released, rollups=False)  # the pull added the rollups
            except Exception:
                log.exception("replaying the states of %s pulled rows failed", len(released))
                connections.close_all()
                with self._released_ready:
                    self._released[:0] = released
                    if self._closing:
                        log.error(
                            "stopping with %s pulled rows whose learner states are not "
                            "replayed; another pulled attempt on the same atom replays them",
                            len(self._released),
                        )
                        break
                backoff = min(BACKOFF_MAX_S, max(1.0, backoff * 2))
                time.sleep(backoff)
                continue
            backoff = 0.0
            self.stats.caught_up += len(released)
        connections.close_all()

    def _backoff_next(self, *, peek: bool = False) -> float:
        backoff = min(BACKOFF_MAX_S, max(1.0, self._backoff * 2))
        if not peek:
            self._backoff = backoff
        return backoff

    # --- notifications ----------------------------------------------------------------------

    def _connect(self, stop: threading.Event) -> bool:
        """Open the LISTEN connection; False (after a backoff) when v1 cannot be reached."""
        try:
            wrapper = connections[self.alias]
            conn = wrapper.get_new_connection(wrapper.get_connection_params())
            conn.autocommit = True
            conn.execute(f"LISTEN {PULL_NOTIFY_CHANNEL}")
        except Exception as exc:  # any failure to reach v1 is retried
            delay = self._backoff_next()
            log.warning("cannot LISTEN on v1 (%s); retrying in %.0f s", exc, delay)
            stop.wait(delay)
            return False
        if self.stats.reconnects or self._conn is not None:
            log.info("listening on v1 again")
        self._conn = conn
        self.listening.set()
        return True

    def _disconnect(self) -> None:
        self.listening.clear()
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to release
                self._conn.close()
            self._conn = None

    def _wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` for a notification; True when one came or the connection
        dropped (what it missed meanwhile is pulled after the reconnect)."""
        timeout = max(timeout, 0.0)
        if self._conn is None:  # SQLite: polled only
            self._stop.wait(timeout)
            return False
        try:
            got = sum(1 for _ in self._conn.notifies(timeout=timeout, stop_after=1))
        except Exception as exc:  # a dropped connection of any kind
            self.stats.reconnects += 1
            log.warning("lost the LISTEN connection to v1 (%s); reconnecting", exc)
            self._disconnect()
            return True
        self.stats.notifications += got
        return bool(got)

    def _drain(self) -> None:
        """Take the notifications already delivered: the coming pull covers them."""
        if self._conn is None:
            return
        with contextlib.suppress(Exception):  # _wait meets a broken connection next
            self.stats.notifications += sum(1 for _ in self._conn.notifies(timeout=0))
