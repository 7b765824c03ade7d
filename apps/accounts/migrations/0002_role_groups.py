"""Data migration: create the staff role groups with their permissions."""

from django.db import migrations

ROLES = ["Authors", "Reviewers", "Publishers", "Migration staff"]


def create_role_groups(apps, schema_editor):
    from apps.accounts.roles import role_permissions_sync

    role_permissions_sync(apps)


def delete_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, delete_role_groups)]
