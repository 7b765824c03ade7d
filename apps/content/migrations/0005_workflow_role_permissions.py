"""Data migration: grant the roles the workflow, review, revision and import permissions."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import role_permissions_sync

    role_permissions_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("content", "0004_workflow_revisions_imports")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
