"""Data migration: grant the staff roles their content and curriculum permissions."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import role_permissions_sync

    role_permissions_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0002_postgres_search_indexes"),
        ("curriculum", "0001_initial"),
        ("accounts", "0002_role_groups"),
    ]

    # Reversing leaves the grants: the groups themselves go with accounts.0002.
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
