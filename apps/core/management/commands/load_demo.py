"""Idempotent demo data: one user per role (password demo12345), a native course, a learner's
history, and, while the migration app is installed, a v1 legacy database backfilled into v2
(its ``legacy_demo`` command). Refuses to run in production."""

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts import roles
from apps.accounts.models import User
from apps.achievements.demo import demo_badges_load
from apps.assessment.demo import demo_blueprint_load
from apps.content.demo_content import demo_course_load
from apps.learning.demo_history import demo_learner_history_load

DEMO_PASSWORD = "demo12345"  # noqa: S105 - documented demo login, refused in production

# email, display name, role group (None for learner), is_staff, is_superuser
DEMO_USERS = [
    ("admin@demo.local", "Ada Admin", None, True, True),
    ("author@demo.local", "Arthur Author", roles.AUTHORS, True, False),
    ("reviewer@demo.local", "Rita Reviewer", roles.REVIEWERS, True, False),
    ("publisher@demo.local", "Paul Publisher", roles.PUBLISHERS, True, False),
    ("staff@demo.local", "Mia Migration", roles.MIGRATION_STAFF, True, False),
    ("learner@demo.local", "Lea Learner", None, False, False),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo users and content. Safe to run repeatedly."

    def handle(self, *args, **options):
        if getattr(settings, "IS_PRODUCTION", False):
            raise CommandError("load_demo never runs with production settings.")
        with transaction.atomic():
            users = {
                email: self._ensure_user(email, display_name, role, is_staff, is_superuser)
                for email, display_name, role, is_staff, is_superuser in DEMO_USERS
            }
            course = demo_course_load(author=users["author@demo.local"])
            demo_blueprint_load(course=course, by=users["author@demo.local"])
            demo_badges_load(course=course, by=users["author@demo.local"])
            answered = demo_learner_history_load(learner=users["learner@demo.local"])
        self.stdout.write(f"Demo course: {course.title} ({course.concepts.count()} concepts)")
        if answered:
            self.stdout.write(f"Demo learner: {answered} attempts over the last three days")
        if apps.is_installed("apps.legacy_sync"):  # by name: core never imports it
            call_command("legacy_demo", stdout=self.stdout)
        self._print_logins()

    def _ensure_user(self, email, display_name, role, is_staff, is_superuser) -> User:
        user, _ = User.objects.get_or_create(
            email=email, defaults={"display_name": display_name, "timezone": "Europe/London"}
        )
        user.display_name = display_name
        user.is_staff = is_staff
        user.is_superuser = is_superuser
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        if role:
            user.groups.set([Group.objects.get(name=role)])
        return user

    def _print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Log in with:"))
        for email, _, role, _, is_superuser in DEMO_USERS:
            label = "superuser" if is_superuser else (role or "learner")
            self.stdout.write(f"  {email:<24} {DEMO_PASSWORD}   ({label})")
        self.stdout.write(
            "\n  Admin:       http://127.0.0.1:8000/admin/\n"
            "  API docs:    http://127.0.0.1:8000/api/docs/\n"
            "  Readiness:   http://127.0.0.1:8000/readyz\n"
        )
