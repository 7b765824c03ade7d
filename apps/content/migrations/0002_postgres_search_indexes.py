from django.db import migrations


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from apps.content.search_indexes import POSTGRES_ATOM_INDEXES

    model = apps.get_model("content", "LearningAtom")
    for index in POSTGRES_ATOM_INDEXES:
        schema_editor.add_index(model, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from apps.content.search_indexes import POSTGRES_ATOM_INDEXES

    model = apps.get_model("content", "LearningAtom")
    for index in POSTGRES_ATOM_INDEXES:
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [("content", "0001_initial")]

    operations = [migrations.RunPython(add_indexes, remove_indexes)]
