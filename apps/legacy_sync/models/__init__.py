"""legacy_sync's models, by concern; the v1 tables themselves are the unmanaged models of
v1/models.py (on the "legacy" alias), registered here with the app."""

# ruff: noqa: F401 - re-exports

from ..v1.models import (
    LegacyAttempt,
    LegacyBit,
    LegacyChapter,
    LegacyFlashcard,
    LegacyMistakeLog,
    LegacyPoint,
    LegacyReviewCard,
    LegacySession,
    LegacyTask,
    LegacyUser,
    LegacyUserProfile,
)
from .backfill import BackfillCheckpoint, BackfillRun, BackfillStatus, StreakComparison
from .live_sync import (
    Cohort,
    CohortAssignment,
    FlagChange,
    OutboxEntry,
    OutboxStatus,
    ReadSource,
    ShadowRead,
    SyncConflict,
    SyncFlags,
)
from .quarantine import MergedLegacyRow, QuarantinedRow
from .reconcile import (
    DifferenceKind,
    ReconciliationDifference,
    ReconciliationRun,
    ReconciliationStatus,
)
