from .models import User


def user_role_names(*, user: User) -> list[str]:
    """The caller's staff roles (group names); empty for a learner."""
    return sorted(user.groups.values_list("name", flat=True))
