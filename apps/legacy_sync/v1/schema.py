"""Creating the v1 schema in an empty legacy database (fixtures, tests, demo) from the files
the legacy platform ships, carried in ``v1_schema/`` (settings.LEGACY_SCHEMA_DIR). Never used
against a live v1 database."""

from pathlib import Path

from django.conf import settings

from .entities import V1_TABLES
from .gateway import v1_connection, v1_cursor

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
