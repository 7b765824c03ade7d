"""Staff roles are Django groups. Learners are plain users with no group.

Each role's permissions are listed here by ``app_label.codename``; later apps add theirs and
re-run ``role_permissions_sync`` from a data migration. Permissions whose model does not exist
yet are skipped, so the mapping can name what later migrations will create.
"""

AUTHORS = "Authors"
REVIEWERS = "Reviewers"
PUBLISHERS = "Publishers"
MIGRATION_STAFF = "Migration staff"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    AUTHORS: [],
    REVIEWERS: [],
    PUBLISHERS: [],
    MIGRATION_STAFF: ["accounts.view_user"],
}


def role_permissions_sync(apps, role_permissions: dict[str, list[str]] | None = None) -> None:
    """Create the role groups and grant them the listed permissions (idempotent).

    ``apps`` is a migration's app registry (or ``django.apps.apps``).
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, permission_names in (role_permissions or ROLE_PERMISSIONS).items():
        group, _ = Group.objects.get_or_create(name=role)
        for name in permission_names:
            app_label, codename = name.split(".", 1)
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)
