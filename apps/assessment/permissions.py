"""What each staff role may do with mock tests in the admin (apps/accounts/roles.py's model:
roles are groups; the data migration grants these through ``role_permissions_sync``)."""

from apps.accounts.roles import AUTHORS, PUBLISHERS, REVIEWERS

_BLUEPRINT = ("mocktestblueprint", "blueprintsection")
_TESTS = ("mocktest", "mocktestitem")


def _perms(actions: tuple[str, ...], models: tuple[str, ...]) -> list[str]:
    return [f"assessment.{action}_{model}" for action in actions for model in models]


ASSESSMENT_ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Authors build the course's test as they build its curriculum, and see how it went.
    AUTHORS: [*_perms(("view", "add", "change"), _BLUEPRINT), *_perms(("view",), _TESTS)],
    REVIEWERS: [*_perms(("view",), _BLUEPRINT)],
    PUBLISHERS: [
        *_perms(("view", "add", "change", "delete"), _BLUEPRINT),
        *_perms(("view",), _TESTS),
    ],
}
