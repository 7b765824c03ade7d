"""Show the live-sync flags, or change them through the same audited service as the admin."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...live.flags import FLAG_NAMES, sync_flags, sync_flags_update
from ...models import ReadSource

ON_OFF = {"on": True, "off": False}
OPTION_OF = {
    "dual_write": "--dual-write",
    "read_source": "--read-source",
    "adaptive_rollout_percent": "--rollout-percent",
    "shadow_read_percent": "--shadow-percent",
    "kill_switch": "--kill-switch",
}


class Command(BaseCommand):
    help = (
        "Show the live-sync flags; with options, change them through the flags service "
        "(each change audited as a FlagChange, as in the admin)."
    )

    def add_arguments(self, parser):
        def flag(name, **kwargs):
            parser.add_argument(OPTION_OF[name], dest=name, **kwargs)

        flag("dual_write", choices=ON_OFF, help="write v2's new rows to v1 too (v1 is live)")
        flag("read_source", choices=ReadSource.values, help="where progress reads come from")
        flag("adaptive_rollout_percent", type=int, metavar="0-100",
             help="share of learners in the adaptive cohort")  # fmt: skip
        flag("shadow_read_percent", type=int, metavar="0-100",
             help="share of v1 progress reads also answered by v2")  # fmt: skip
        flag("kill_switch", choices=ON_OFF, help="pause all syncing (pulls and pushes) at once")
        parser.add_argument("--note", default="", help="why; kept with each audited change")
        parser.add_argument("--by", metavar="EMAIL", help="the staff user making the change")

    def handle(self, *args, **options):
        changes = {
            name: ON_OFF.get(options[name], options[name])
            for name in FLAG_NAMES
            if options[name] is not None
        }
        if changes:
            before = sync_flags()
            by = self._staff_user(options["by"]) if options["by"] else None
            note = f"legacy_flags: {options['note']}" if options["note"] else "legacy_flags"
            try:
                after = sync_flags_update(by=by, note=note, **changes)
            except ValidationError as exc:
                problems = [
                    f"{OPTION_OF[name]}: {' '.join(messages)}"
                    for name, messages in exc.message_dict.items()
                ]
                raise CommandError("; ".join(problems)) from None
            for name in changes:
                if getattr(before, name) != getattr(after, name):
                    self.stdout.write(
                        f"Changed {name}: {_shown(getattr(before, name))} → "
                        f"{_shown(getattr(after, name))}"
                    )
        flags = sync_flags()
        for name in FLAG_NAMES:
            self.stdout.write(f"  {name:<26} {_shown(getattr(flags, name)):<4} ({OPTION_OF[name]})")
        by = flags.updated_by.email if flags.updated_by else "no staff user"
        self.stdout.write(f"  last changed {flags.updated_at:%Y-%m-%d %H:%M:%S} UTC by {by}")

    def _staff_user(self, email: str):
        user = get_user_model().objects.filter(email__iexact=email, is_staff=True).first()
        if user is None:
            raise CommandError(f"--by: no staff user has the email {email}.")
        return user


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)
