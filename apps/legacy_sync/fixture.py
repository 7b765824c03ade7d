"""Kept for importers outside legacy_sync; the code is in v1/fixture.py."""

from .v1.fixture import legacy_fixture_build  # noqa: F401
