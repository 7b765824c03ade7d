"""legacy_sync behind the core sync port (apps/core/sync_port.py): what the domain apps
announce reaches v1 through the outbox, progress reads follow the flags, cohorts follow the
rollout (recorded at session start), and open v1 sessions are caught up when a session starts
and left out of next items. Registered in apps.py."""

import logging

from ..reconcile.coverage import attempt_month_archive_refusal
from .flags import cohort_assignment_record, learner_cohort
from .outbox import outbox_record
from .progress_reads import progress_read
from .pull import learner_v1_open_session_concepts, learner_v1_session_catch_up

logger = logging.getLogger(__name__)


class LegacySyncAdapter:
    def rows_changed(self, *, entity: str, ids: list) -> None:
        outbox_record(entity=entity, v2_ids=ids)

    def progress_read(self, learner) -> dict:
        return progress_read(learner)

    def learner_cohort(self, learner) -> str:
        return learner_cohort(learner)

    def concepts_practised_elsewhere(self, learner) -> set:
        return learner_v1_open_session_concepts(learner)

    def learner_session_started(self, learner) -> None:
        """Record the A/B cohort, and pull the learner's open v1 sessions now rather than at
        the next beat (read-after-write for a learner moving over mid-session). Never fails
        the learner's request: the beat's pull catches up whatever this could not."""
        try:
            cohort_assignment_record(learner)
            learner_v1_session_catch_up(learner)
        except Exception:
            logger.exception("session-start sync for learner %s failed", learner.pk)

    def attempt_month_archive_refusal(self, start, end) -> str | None:
        return attempt_month_archive_refusal(start, end)
