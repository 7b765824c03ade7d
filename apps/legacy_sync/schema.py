"""Kept for importers outside legacy_sync; the code is in v1/schema.py."""

from .v1.schema import legacy_schema_create  # noqa: F401
