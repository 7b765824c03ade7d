"""Data migration: Authors and Publishers edit mock test blueprints, Reviewers read them, and
Authors and Publishers read learners' tests (apps/assessment/permissions.py)."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import role_permissions_sync
    from apps.assessment.permissions import ASSESSMENT_ROLE_PERMISSIONS

    role_permissions_sync(apps, ASSESSMENT_ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial"), ("accounts", "0002_role_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
