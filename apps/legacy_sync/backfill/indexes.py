"""Secondary indexes built after an initial load, as pg_restore does.

Loading millions of rows into a table keeps every index up to date row by row; once the
indexes outgrow the buffer cache, that is most of the load's time (attempts: 18k rows/s with
them, 23k without, at 800k rows). When a stage starts on a table v2 has not written to yet
(empty, or holding only rows this backfill migrated: before learners use v2), its secondary
indexes (not the primary key, not unique
ones: conflicts and upserts need those) are dropped, and rebuilt at the end with one sort
each. ``indexes_ensure`` runs at the end of every stage run whatever happened, so a run
killed mid-load leaves the next run to rebuild them; names and definitions are Django's own,
so migrations keep finding them.
"""

from contextlib import contextmanager

from django.db import connection, models

from apps.core.models import Origin


def secondary_indexes(model: type[models.Model]) -> dict[str, str]:
    """{index name: CREATE INDEX statement} for the model's non-unique indexes."""
    statements = {}
    with connection.schema_editor(collect_sql=True) as editor:
        for index in model._meta.indexes:
            statements[index.name] = str(index.create_sql(model, editor))
        for field in model._meta.local_fields:
            if field.db_index and not field.unique and not field.primary_key:
                sql = editor._create_index_sql(model, fields=[field])
                statements[str(sql.parts["name"]).strip('"')] = str(sql)
    return statements


def _present(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


def indexes_ensure(model: type[models.Model]) -> list[str]:
    """Create whichever secondary indexes are missing; returns their names."""
    if connection.vendor != "postgresql":
        return []
    missing = {
        name: sql
        for name, sql in secondary_indexes(model).items()
        if name not in _present(model._meta.db_table)
    }
    with connection.cursor() as cursor:
        for sql in missing.values():
            cursor.execute(sql)
    return list(missing)


def _written_by_v2(model: type[models.Model]) -> bool:
    rows = model.objects.all()
    if any(f.name == "origin" for f in model._meta.fields):
        rows = rows.exclude(origin=Origin.LEGACY)
    return rows.exists()


@contextmanager
def indexes_deferred(*tables: type[models.Model]):
    """Drop the secondary indexes of ``tables`` that v2 has not written to, for the block;
    rebuild every missing one after it, then refresh the planner's statistics (a bulk load
    leaves them describing an empty table, and the next stage's reads are planned on them)."""
    if connection.vendor == "postgresql":
        for model in tables:
            if not _written_by_v2(model):
                with connection.cursor() as cursor:
                    for name in secondary_indexes(model):
                        cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    try:
        yield
    finally:
        for model in tables:
            indexes_ensure(model)
        if tables:
            planner_statistics_refresh(*tables)


def planner_statistics_refresh(*tables: type[models.Model]) -> None:
    """ANALYZE ``tables`` (every table when none is named). Until autovacuum gets round to a
    freshly loaded table, the planner takes it for empty: reconciling right after a
    quarter-scale backfill took 24 s on those plans (a nested loop over every attempt), and
    4 s on fresh statistics."""
    if connection.vendor != "postgresql":
        return
    names = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {names}")
