"""Kept for importers outside legacy_sync; the code is in live/flags.py."""

from .live.flags import sync_flags, sync_flags_update  # noqa: F401
