"""The pull woken by v1's writes (live/listen.py): a v1 row arrives without any beat tick,
bursts make few pulls, the flags pause it, it survives a dropped connection, and without
notifications (a SQLite v1, a missing trigger) its fallback poll still brings rows in."""

import logging
import threading
import time
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from apps.core.models import Origin
from apps.learning.models import Attempt
from apps.legacy_sync.live.flags import sync_flags_update
from apps.legacy_sync.live.listen import PullListener
from apps.legacy_sync.live.pull import PullWindow, legacy_pull_locked, legacy_pull_once
from apps.legacy_sync.v1.gateway import v1_is_postgres
from apps.legacy_sync.v1.schema import (
    PULL_NOTIFY_TABLES,
    PULL_NOTIFY_TRIGGER,
    pull_notify_installed,
)
from apps.scheduler.models import LearnerAtomState

from .sync_helpers import bit_card, legacy_learner, synced_world, v1, v1_attempt_insert

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)

ARRIVES_WITHIN_S = 5.0  # generous for a shared 2-core machine; a notified pull takes ~50 ms
NO_FALLBACK_S = 600.0  # so only a notification can wake the listener within a test


@contextmanager
def listener_running(**kwargs):
    """A PullListener in a thread, once its first (catch-up) pull is done."""
    listener, stop = PullListener(**kwargs), threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: listener.stats.pulls >= 1, what="the listener's first pull")
        yield listener
    finally:
        stop.set()
        thread.join(timeout=15)
        assert not thread.is_alive(), "the listener did not stop"


def wait_for(condition, *, what: str, within: float = ARRIVES_WITHIN_S):
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        time.sleep(0.02)


def pulled(v1_id: int) -> bool:
    return Attempt.objects.filter(origin=Origin.LEGACY, legacy_key=str(v1_id)).exists()


def v1_answer() -> int:
    learner, card = legacy_learner(), bit_card()
    return v1_attempt_insert(user_id=int(learner.legacy_key), bit_id=int(card.legacy_key[4:]))


postgresql_only = pytest.mark.postgresql


@postgresql_only
def test_a_v1_row_is_pulled_on_its_notification_without_any_beat_tick(tmp_path):
    # given a synced world and the listener, whose fallback poll is too slow to matter here
    synced_world(tmp_path)
    assert pull_notify_installed() == sorted(PULL_NOTIFY_TABLES)
    with listener_running(fallback_s=NO_FALLBACK_S) as listener:
        # when v1 commits an attempt
        started = time.monotonic()
        v1_id = v1_answer()

        # then it is in v2 within the bound, woken by v1's notification (no beat, no poll)
        wait_for(lambda: pulled(v1_id), what="the notified pull")
        lag = time.monotonic() - started
        assert listener.stats.notifications >= 1
        assert listener.stats.polls == 0

        # and the learner's state on that card is replayed with it, beside the next pull
        wait_for(lambda: listener.stats.caught_up >= 1, what="the states' catch-up")
    learner, card = legacy_learner(), bit_card()
    state = LearnerAtomState.objects.get(learner=learner, atom=card, archived_in__isnull=True)
    answers = Attempt.objects.filter(learner=learner, atom=card, archived_in__isnull=True)
    assert state.reviews == answers.count()
    assert state.last_reviewed_at == answers.order_by("-answered_at")[0].answered_at
    assert lag < ARRIVES_WITHIN_S


@postgresql_only
def test_a_burst_of_v1_commits_is_coalesced_into_few_pulls(tmp_path):
    # given a listener whose pulls are slow (each holds on 0.3 s after pulling)
    synced_world(tmp_path)
    calls = []

    def slow_pull(**kwargs):
        report = legacy_pull_locked(**kwargs)
        calls.append(report)
        time.sleep(0.3)
        return report

    with listener_running(fallback_s=NO_FALLBACK_S, pull=slow_pull) as listener:
        first = len(calls)
        # when v1 commits 30 attempts one by one within about a second
        ids = []
        for _ in range(30):
            ids.append(v1_answer())
            time.sleep(0.03)

        # then all arrive, in far fewer pulls than commits: one runs, one more is queued
        wait_for(lambda: all(pulled(i) for i in ids), what="the burst", within=10)
        wait_for(lambda: listener.stats.notifications >= 2, what="the notifications")
    pulls = len(calls) - first
    assert 1 <= pulls <= 8, pulls
    assert sum(report.pulled.get("attempts", 0) for report in calls) == 30


@postgresql_only
def test_the_kill_switch_stops_the_listener_and_releasing_it_resumes(tmp_path, caplog):
    # given the kill switch on
    synced_world(tmp_path)
    sync_flags_update(kill_switch=True)
    caplog.set_level(logging.INFO, logger="apps.legacy_sync.live.listen")
    with listener_running(fallback_s=NO_FALLBACK_S) as listener:
        # when v1 commits an attempt: the listener wakes, and pulls nothing
        held = v1_answer()
        wait_for(lambda: listener.stats.pulls >= 2, what="the woken (skipped) pull")
        time.sleep(0.3)
        assert not pulled(held)
        assert "kill switch is on" in caplog.text

        # and once released, the next v1 commit brings both in
        sync_flags_update(kill_switch=False)
        after = v1_answer()
        wait_for(lambda: pulled(held) and pulled(after), what="the pull after the release")
    assert "v1 pull resumed" in caplog.text


@postgresql_only
def test_dual_write_off_pulls_nothing(tmp_path, caplog):
    synced_world(tmp_path, dual_write=False)
    caplog.set_level(logging.INFO, logger="apps.legacy_sync.live.listen")
    with listener_running(fallback_s=NO_FALLBACK_S) as listener:
        v1_id = v1_answer()
        wait_for(lambda: listener.stats.pulls >= 2, what="the woken (skipped) pull")
        assert not pulled(v1_id)
    assert "dual write is off" in caplog.text


@postgresql_only
def test_the_listener_reconnects_after_its_connection_is_dropped(tmp_path):
    synced_world(tmp_path)
    with listener_running(fallback_s=NO_FALLBACK_S) as listener:
        # when v1's server drops the listening connection
        v1("SELECT pg_terminate_backend(%s)", [listener._conn.info.backend_pid])
        wait_for(lambda: listener.stats.reconnects >= 1, what="noticing the drop")
        wait_for(lambda: listener.listening.is_set(), what="listening again")

        # then a later v1 commit still wakes it
        v1_id = v1_answer()
        wait_for(lambda: pulled(v1_id), what="the pull after the reconnect")


def test_without_notifications_the_fallback_poll_converges(tmp_path):
    # given a v1 that does not notify: SQLite, or PostgreSQL without the attempts trigger
    synced_world(tmp_path)
    if v1_is_postgres():
        v1(f"DROP TRIGGER {PULL_NOTIFY_TRIGGER} ON attempts")
    with listener_running(fallback_s=0.3) as listener:
        # when v1 commits an attempt, it still arrives, by the fallback poll
        v1_id = v1_answer()
        wait_for(lambda: pulled(v1_id), what="the fallback poll")
        assert listener.stats.polls >= 1
        assert listener.stats.notifications == 0


@postgresql_only
def test_a_late_commit_below_the_checkpoint_is_pulled_by_a_windowed_pull(tmp_path):
    # given a long-running puller's window, and a v1 id taken but not yet committed
    synced_world(tmp_path)
    window = PullWindow()
    legacy_pull_once(window=window)
    [(late_id,)] = v1("SELECT nextval(pg_get_serial_sequence('attempts', 'id'))")
    later = v1_answer()
    legacy_pull_once(window=window)
    assert pulled(later) and not pulled(late_id)

    # when the transaction holding the lower id commits after the higher one was pulled
    learner, card = legacy_learner(), bit_card()
    v1(
        "INSERT INTO attempts (id, user_id, bit_id, correct, user_answer, created_at) "
        "VALUES (%s, %s, %s, true, 'late', now() at time zone 'utc')",
        [late_id, int(learner.legacy_key), int(card.legacy_key[4:])],
    )

    # then the next windowed pull brings it in, and only it
    report = legacy_pull_once(window=window)
    assert pulled(late_id)
    assert report.pulled == {"attempts": 1}


def test_the_notify_trigger_install_is_idempotent_and_postgresql_only(tmp_path):
    synced_world(tmp_path)
    if not v1_is_postgres():
        with pytest.raises(CommandError, match="not PostgreSQL"):
            call_command("legacy_pull_notify_install")
        return
    call_command("legacy_pull_notify_install")
    call_command("legacy_pull_notify_install")
    call_command("legacy_pull_notify_install", "--check")
    [(triggers,)] = v1("SELECT COUNT(*) FROM pg_trigger WHERE tgname = %s", [PULL_NOTIFY_TRIGGER])
    assert triggers == len(PULL_NOTIFY_TABLES)
    v1(f"DROP TRIGGER {PULL_NOTIFY_TRIGGER} ON points")
    with pytest.raises(CommandError, match="points"):
        call_command("legacy_pull_notify_install", "--check")
    connections["legacy"].close()


def test_pulled_attempts_are_in_the_rollups_as_a_rebuild_from_the_log_has_them(tmp_path):
    from apps.learning.models import LearnerAtomRollup, LearnerDayRollup
    from apps.learning.services.rollups import learner_rollups_rebuild

    # given v1 attempts by two learners (the pull adds them to the rollups as it writes them)
    synced_world(tmp_path)
    learner, card = legacy_learner(), bit_card()
    for _ in range(3):
        v1_answer()
    other = Attempt.objects.filter(origin=Origin.LEGACY).exclude(learner=learner).first().learner
    v1_attempt_insert(user_id=int(other.legacy_key), bit_id=int(card.legacy_key[4:]))
    report = legacy_pull_once()
    assert report.pulled["attempts"] == 4

    def rollups():
        return (
            sorted(LearnerDayRollup.objects.values_list("learner", "day", "attempts", "correct")),
            sorted(LearnerAtomRollup.objects.values_list("learner", "atom", "attempts", "correct")),
        )

    # then they equal the rollups rebuilt from the attempt log
    added = rollups()
    learner_rollups_rebuild(learner_ids=[learner.pk, other.pk])
    assert rollups() == added
