"""What the staff roles may read of the learning app in the admin (apps/accounts/roles.py's
model: roles are groups; every role sync grants these, the one after each migrate included).
Study tasks are learners' own planner entries, most of them migrated from v1: Migration staff,
who check migrated rows, read them (read-only: a task is its learner's to mark)."""

from apps.accounts.roles import MIGRATION_STAFF

LEARNING_ROLE_PERMISSIONS: dict[str, list[str]] = {
    MIGRATION_STAFF: ["learning.view_studytask"],
}
