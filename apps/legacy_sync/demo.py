"""Kept for importers outside legacy_sync; the code is in backfill/demo.py."""

from .backfill.demo import demo_legacy_load  # noqa: F401
