from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.learning.models import Attempt, LearnerDayRollup
from apps.learning.services.rollups import learner_rollups_rebuild

LEARNERS_PER_TRANSACTION = 500


class Command(BaseCommand):
    help = (
        "Rebuild the learners' statistics rollups (per day and per atom) from the attempt log: "
        "every learner with attempts or rollups, or one learner (--learner EMAIL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--learner", metavar="EMAIL", help="Only this learner.")

    def handle(self, *args, learner=None, **options):
        if learner:
            found = User.objects.filter(email__iexact=learner).values_list("pk", flat=True)
            if not found:
                raise CommandError(f"No learner {learner}.")
            ids = list(found)
        else:
            ids = set(Attempt.objects.order_by().values_list("learner_id", flat=True).distinct())
            ids |= set(
                LearnerDayRollup.objects.order_by().values_list("learner_id", flat=True).distinct()
            )
            ids = sorted(ids, key=str)
        days = 0
        for start in range(0, len(ids), LEARNERS_PER_TRANSACTION):
            days += learner_rollups_rebuild(
                learner_ids=ids[start : start + LEARNERS_PER_TRANSACTION]
            )
        self.stdout.write(f"Rebuilt the rollups of {len(ids)} learner(s): {days} day row(s).")
