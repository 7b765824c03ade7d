"""Parameters and values for the few hot reads written out in SQL (the attempt, next items,
progress).

Compiling the ORM's form of a small query there cost more CPU than running it: the attempt's
locked state read with an EXISTS annotation took 0.74 ms to compile and 0.1 ms to run (py-spy:
the ORM's compilers were a quarter of an answer). Those reads go through ``Model.objects.raw``
or a cursor where the ORM would read; these helpers prepare the parameters and convert the
values as the fields do (a UUID is text on SQLite), so the same SQL runs on both databases.
"""

from django.db import connection, connections, router


def field_value(model, name: str, value):
    """``value`` as the column of ``model``'s field ``name`` holds it."""
    return model._meta.get_field(name).get_db_prep_value(value, connection)


def in_list(model, name: str, values) -> tuple[str, list]:
    """``("(%s, %s, …)", [values prepared])`` for a raw ``IN`` on ``model``'s field ``name``.
    Precondition: ``values`` is not empty (``IN ()`` is not SQL)."""
    prepared = [field_value(model, name, value) for value in values]
    return "(" + ", ".join(["%s"] * len(prepared)) + ")", prepared


def read_cursor(model):
    """A cursor where the ORM would read ``model`` now (the replica inside a replica scope)."""
    return connections[router.db_for_read(model)].cursor()


def column_values(model, name: str, values) -> list:
    """``values`` read from ``model``'s field ``name`` by a raw cursor, as the ORM returns them
    (SQLite hands back a UUID as text, and a date as text where it lost the column's type)."""
    field = model._meta.get_field(name)
    field = getattr(field, "target_field", field)
    return [None if value is None else field.to_python(value) for value in values]


def for_update() -> str:
    """`` FOR UPDATE`` where the database locks rows; SQLite locks the whole file instead and
    has no such clause (the ORM's ``select_for_update`` drops it there alike)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""
