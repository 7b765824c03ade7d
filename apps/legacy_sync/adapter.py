"""legacy_sync behind the core sync port (apps/core/sync_port.py): what the domain apps
announce reaches v1 through the outbox, progress reads follow the flags, cohorts follow the
rollout, and open v1 sessions are caught up for next items. Registered in apps.py."""

from .flags import learner_cohort
from .outbox import outbox_record
from .progress_reads import progress_read
from .pull import learner_v1_session_catch_up


class LegacySyncAdapter:
    def rows_changed(self, *, entity: str, ids: list) -> None:
        outbox_record(entity=entity, v2_ids=ids)

    def progress_read(self, learner) -> dict:
        return progress_read(learner)

    def learner_cohort(self, learner) -> str:
        return learner_cohort(learner)

    def concepts_practised_elsewhere(self, learner) -> set:
        return learner_v1_session_catch_up(learner)
