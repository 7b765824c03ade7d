"""The port through which the domain apps talk to a data-sync adapter without importing it.

While the legacy v1 platform lives, ``apps.legacy_sync`` plugs in (its AppConfig.ready); at
cutover it is removed and every call here falls back to what v2 alone answers. The dependency
runs one way: legacy_sync imports the domain apps, never the reverse.
"""

from collections.abc import Callable, Iterable
from typing import Protocol


class SyncAdapter(Protocol):
    def rows_changed(self, *, entity: str, ids: list) -> None: ...

    def progress_read(self, learner) -> dict: ...

    def learner_cohort(self, learner) -> str: ...

    def concepts_practised_elsewhere(self, learner) -> set: ...

    def learner_session_started(self, learner) -> None: ...

    def attempt_month_archive_refusal(self, start, end) -> str | None: ...


_adapter: SyncAdapter | None = None


def sync_adapter_register(adapter: SyncAdapter | None) -> None:
    """Plug an adapter in (or out, with None)."""
    global _adapter
    _adapter = adapter


def rows_changed(*, entity: str, ids: Iterable) -> None:
    """v2 wrote these rows of ``entity`` (an entity name of the v1 contract: users, sessions,
    attempts, points, bits, flashcards...). Precondition: inside the transaction that writes
    them, so the adapter's own record commits with them or not at all."""
    ids = list(ids)
    if _adapter is not None and ids:
        _adapter.rows_changed(entity=entity, ids=ids)


def progress_read(learner, *, v2_answer: Callable[[], dict]) -> dict:
    """The learner's progress from wherever it is read now; v2's answer without an adapter."""
    if _adapter is None:
        return v2_answer()
    return _adapter.progress_read(learner)


def learner_cohort(learner) -> str:
    """The learner's A/B cohort: ``adaptive`` for everyone once v1 is gone."""
    return _adapter.learner_cohort(learner) if _adapter is not None else "adaptive"


def concepts_practised_elsewhere(learner) -> set:
    """Concepts the learner practises right now in another system (v1's open sessions), for
    next items to leave out; none without an adapter."""
    return _adapter.concepts_practised_elsewhere(learner) if _adapter is not None else set()


def learner_session_started(learner) -> None:
    """The learner started a study session (a POST): the adapter may record and catch up
    what it needs then. Call after commit; reads never trigger it."""
    if _adapter is not None:
        _adapter.learner_session_started(learner)


def attempt_month_archive_refusal(start, end) -> str | None:
    """Why the attempts answered in [start, end) may not leave the live table yet (the adapter
    has not reconciled them with the other system), or None. Nothing holds them back once
    there is no adapter."""
    return _adapter.attempt_month_archive_refusal(start, end) if _adapter is not None else None
