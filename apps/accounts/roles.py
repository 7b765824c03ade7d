"""Staff roles are Django groups. Learners are plain users with no group.

Each role's permissions are listed here by ``app_label.codename``; later apps add theirs and
re-run ``role_permissions_sync`` from a data migration. Permissions whose model does not exist
yet are skipped, so the mapping can name what later migrations will create.
"""

AUTHORS = "Authors"
REVIEWERS = "Reviewers"
PUBLISHERS = "Publishers"
MIGRATION_STAFF = "Migration staff"

_CONTENT_MODELS = ("learningatom", "atomresponseoption", "atomconceptweight", "atommedia", "tag")
_CURRICULUM_MODELS = ("course", "unit", "concept", "conceptprerequisite", "misconception")


def _perms(app_label: str, actions: tuple[str, ...], models: tuple[str, ...]) -> list[str]:
    return [f"{app_label}.{action}_{model}" for action in actions for model in models]


_REVIEW_MODELS = ("reviewcomment",)
_SCHEDULER_MODELS = ("learneratomstate", "learnerconceptstate", "fittedmodel", "halflifemodel")
_READ_ONLY_CONTENT = ("atomrevision", "itemanalysissettings")

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Authors write atoms, build the curriculum around them, import, and submit for review.
    AUTHORS: [
        *_perms("content", ("view", "add", "change"), _CONTENT_MODELS),
        *_perms("curriculum", ("view", "add", "change"), _CURRICULUM_MODELS),
        *_perms("content", ("view", "add", "change"), _REVIEW_MODELS),
        *_perms("content", ("view",), _READ_ONLY_CONTENT),
        *_perms("content", ("view", "add"), ("importjob",)),
        "content.submit_atom",
        "content.import_atoms",
        # what the scheduler believes learners remember: states, fits, the memory page
        *_perms("scheduler", ("view",), _SCHEDULER_MODELS),
    ],
    # Reviewers read everything they review, comment, approve or request changes.
    REVIEWERS: [
        *_perms("content", ("view",), _CONTENT_MODELS),
        *_perms("curriculum", ("view",), _CURRICULUM_MODELS),
        *_perms("content", ("view", "add", "change"), _REVIEW_MODELS),
        *_perms("content", ("view",), _READ_ONLY_CONTENT),
        "content.review_atom",
    ],
    # Publishers publish, schedule, archive and restore; they also tune item-analysis flags.
    PUBLISHERS: [
        *_perms("content", ("view", "change"), _CONTENT_MODELS),
        *_perms("curriculum", ("view", "add", "change", "delete"), _CURRICULUM_MODELS),
        *_perms("content", ("view", "add", "change"), _REVIEW_MODELS),
        *_perms("content", ("view",), _READ_ONLY_CONTENT),
        "content.change_itemanalysissettings",
        "content.publish_atom",
        # Badges learners earn: definitions (name, icon, rule) and who earned which.
        *_perms("achievements", ("view", "add", "change", "delete"), ("badge",)),
        *_perms("achievements", ("view",), ("learnerbadge",)),
    ],
    # Migration staff watch the backfill and fix quarantined legacy rows.
    MIGRATION_STAFF: [
        "accounts.view_user",
        *_perms("legacy_sync", ("view", "change"), ("quarantinedrow",)),
        *_perms(
            "legacy_sync",
            ("view",),
            ("backfillrun", "backfillcheckpoint", "mergedlegacyrow", "streakcomparison"),
        ),
        # Live sync: they flip the flags, retry dead outbox entries, review conflicts.
        *_perms("legacy_sync", ("view", "change"), ("syncflags", "outboxentry", "syncconflict")),
        *_perms(
            "legacy_sync",
            ("view",),
            (
                "flagchange",
                "cohortassignment",
                "reconciliationrun",
                "reconciliationdifference",
                "shadowread",
            ),
        ),
        "legacy_sync.view_migration_status",
        "legacy_sync.start_backfill",
    ],
}


def all_role_permissions() -> dict[str, list[str]]:
    """ROLE_PERMISSIONS plus what each installed app grants roles over its own models (an
    AppConfig's ``role_permissions``), so every sync, including the one after a test database
    flush, grants all of them: accounts never imports those apps."""
    from django.apps import apps as global_apps

    merged = {role: list(names) for role, names in ROLE_PERMISSIONS.items()}
    for app_config in global_apps.get_app_configs():
        for role, names in getattr(app_config, "role_permissions", {}).items():
            merged.setdefault(role, []).extend(names)
    return merged


def role_permissions_sync(
    apps, role_permissions: dict[str, list[str]] | None = None, using: str = "default"
) -> None:
    """Create the role groups and grant them the listed permissions (idempotent).

    ``apps`` is a migration's app registry (or ``django.apps.apps``). Permissions are normally
    created after all migrations run, so they are created here first for a fresh database.
    Does nothing on a database where auth is not migrated (the legacy alias).
    """
    from django.contrib.auth.management import create_permissions
    from django.db import router

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    if not router.allow_migrate_model(using, Group):
        return
    for app_config in apps.get_app_configs():
        # create_permissions skips apps without a models module, which a migration's
        # registry lacks; restore the real value so the global registry is left as it was
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True
        try:
            create_permissions(app_config, apps=apps, verbosity=0, using=using)
        finally:
            app_config.models_module = models_module

    for role, permission_names in (role_permissions or all_role_permissions()).items():
        group, _ = Group.objects.db_manager(using).get_or_create(name=role)
        for name in permission_names:
            app_label, codename = name.split(".", 1)
            permission = (
                Permission.objects.db_manager(using)
                .filter(content_type__app_label=app_label, codename=codename)
                .first()
            )
            if permission is not None:
                group.permissions.add(permission)
