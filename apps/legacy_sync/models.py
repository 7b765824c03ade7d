# The legacy v1 tables are declared in legacy_models.py (unmanaged, on the "legacy" alias).
from .legacy_models import (  # noqa: F401 - registered with the app
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
