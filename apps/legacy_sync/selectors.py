"""Kept for importers outside legacy_sync; the code is in status/."""

from .status import conservation_report, legacy_status  # noqa: F401
