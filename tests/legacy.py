"""Tests outside tests/legacy_sync run with the migration app switched off too
(LEGACY_SYNC_ENABLED=false, as after cutover): they reach it only through these helpers, or
in tests marked ``legacy_sync``, and import it inside those tests."""

from django.apps import apps

LEGACY_SYNC_INSTALLED = apps.is_installed("apps.legacy_sync")


def legacy_schema_reset() -> None:
    """An empty v1 database, while there is a migration app to read it."""
    if LEGACY_SYNC_INSTALLED:
        from apps.legacy_sync.v1.schema import legacy_schema_create

        legacy_schema_create(replace=True)
