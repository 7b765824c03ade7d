"""Creating the v1 schema in an empty legacy database (fixtures, tests, demo) from the files
the legacy platform ships, carried in ``v1_schema/`` (settings.LEGACY_SCHEMA_DIR). Never used
against a live v1 database.

On PostgreSQL it also installs the pull's notify trigger (``pull_notify_install``), which is
not v1's: on the real v1 database a DBA installs that once (``legacy_pull_notify_install``)."""

from pathlib import Path

from django.conf import settings
from django.db import transaction

from .entities import BY_NAME, PULLED, V1_TABLES
from .gateway import v1_connection, v1_cursor, v1_is_postgres

LEGACY_TABLES = V1_TABLES


def legacy_schema_file(vendor: str) -> Path:
    name = "schema.postgres.sql" if vendor == "postgresql" else "schema.sqlite.sql"
    return Path(settings.LEGACY_SCHEMA_DIR) / name


def legacy_schema_create(*, alias: str = "legacy", replace: bool = False) -> None:
    """Create the v1 tables on ``alias`` (dropping existing ones first when ``replace``)."""
    sql = legacy_schema_file(v1_connection(alias).vendor).read_text()
    # Comments may contain ';', so drop them before splitting into statements.
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    statements = [s.strip() for s in code.split(";") if s.strip()]
    with v1_cursor(alias) as cursor:
        if replace:
            for table in reversed(LEGACY_TABLES):  # children before the tables they reference
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in statements:
            cursor.execute(statement)
    if v1_is_postgres(alias):
        pull_notify_install(alias=alias)


# Ours, not v1's: shipped with the app, not read from LEGACY_SCHEMA_DIR.
PULL_NOTIFY_SQL = Path(__file__).resolve().parent.parent / "v1_schema" / "pull_notify.postgres.sql"
PULL_NOTIFY_CHANNEL = "legacy_sync_pull"
PULL_NOTIFY_TRIGGER = "legacy_sync_pull_notify"
# The tables whose new rows the pull brings in, and sessions' completions (pull.py).
PULL_NOTIFY_TABLES = tuple(BY_NAME[name].table for name in PULLED)


def pull_notify_install(*, alias: str = "legacy") -> list[str]:
    """Install (or re-install: idempotent) the statement-level triggers through which v1's
    inserts, and its session completions, notify PULL_NOTIFY_CHANNEL. PostgreSQL only; returns
    the tables now notifying. One transaction: a failure leaves the previous state."""
    if not v1_is_postgres(alias):
        raise ValueError("the pull's notify trigger needs a PostgreSQL v1 (SQLite is polled)")
    trigger = PULL_NOTIFY_TRIGGER
    with transaction.atomic(using=alias), v1_cursor(alias) as cursor:
        cursor.execute(PULL_NOTIFY_SQL.read_text())  # one function: no splitting on ';'
        for table in PULL_NOTIFY_TABLES:
            events = "INSERT OR UPDATE OF completed_at" if table == "sessions" else "INSERT"
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            cursor.execute(
                f"CREATE TRIGGER {trigger} AFTER {events} ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {trigger}()"
            )
    return list(PULL_NOTIFY_TABLES)


def pull_notify_installed(*, alias: str = "legacy") -> list[str]:
    """The pulled tables that carry the notify trigger (empty on SQLite)."""
    if not v1_is_postgres(alias):
        return []
    with v1_cursor(alias) as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND c.relname = ANY(%s) AND pg_table_is_visible(c.oid)",
            [PULL_NOTIFY_TRIGGER, list(PULL_NOTIFY_TABLES)],
        )
        return sorted(row[0] for row in cursor.fetchall())
