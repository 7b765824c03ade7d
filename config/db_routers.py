"""Keeps the external legacy v1 database out of Django's migrations and default writes."""

LEGACY_ALIAS = "legacy"


class LegacyRouter:
    """The ``legacy`` alias is never migrated; models that want it say so explicitly.

    Unmanaged legacy models set ``legacy_database = True`` on the model class; everything
    else lives on ``default``.
    """

    def _is_legacy(self, model) -> bool:
        return getattr(model, "legacy_database", False)

    def db_for_read(self, model, **hints):
        return LEGACY_ALIAS if self._is_legacy(model) else None

    def db_for_write(self, model, **hints):
        return LEGACY_ALIAS if self._is_legacy(model) else None

    def allow_relation(self, obj1, obj2, **hints):
        # No foreign keys across the two databases.
        if self._is_legacy(type(obj1)) != self._is_legacy(type(obj2)):
            return False
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != LEGACY_ALIAS
