"""A bulk UPDATE and INSERT for the hot path.

Django's ``bulk_update`` writes ``SET f = CASE WHEN id = 1 THEN … END`` for every field and
builds each CASE as resolved ORM expressions: for the attempt service's one or two rows that
was a third of the request's CPU. On PostgreSQL ``rows_update`` sends one
``UPDATE … FROM (VALUES …)`` with the values prepared by the fields themselves; elsewhere it
is ``bulk_update``. ``rows_insert`` is one INSERT without ``bulk_create``'s transaction
around it: in autocommit a single statement is atomic by itself, and the BEGIN and COMMIT cost
two round trips more (the analytics INSERT after each answer's commit).
"""

from collections.abc import Sequence

from django.db import connection, models


def rows_update(model: type[models.Model], objs: Sequence[models.Model], fields: list[str]):
    """Write ``fields`` of ``objs`` (saved rows of ``model``) in one statement."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    typed = ", ".join(f"%s::{field.db_type(connection)}" for field in columns)
    plain = ", ".join(["%s"] * len(columns))
    values = ", ".join([f"({typed})"] + [f"({plain})"] * (len(objs) - 1))
    names = ", ".join(quote(field.column) for field in columns)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:])
    table, key = quote(meta.db_table), quote(meta.pk.column)
    params = [
        field.get_db_prep_save(getattr(obj, field.attname), connection)
        for obj in objs
        for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} FROM (VALUES {values}) "  # noqa: S608
            f"AS v({names}) WHERE t.{key} = v.{key}",
            params,
        )


def rows_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (new rows of ``model`` with a database-assigned pk) in one statement; their
    pks are not read back. Outside a transaction, as one statement; inside, as part of it."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [
        field.get_db_prep_save(field.pre_save(obj, True), connection)
        for obj in objs
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES {', '.join([row] * len(objs))}",
            params,
        )
