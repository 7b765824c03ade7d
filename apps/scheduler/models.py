from django.conf import settings
from django.db import models


class LearnerAtomState(models.Model):
    """A learner's memory state for one atom, as the scheduler last left it.

    Derived from the attempt log: it can always be rebuilt by replaying the learner's attempts
    on the atom in time order (apps.scheduler.services.atom_state_rebuild).
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="atom_states"
    )
    atom = models.ForeignKey("content.LearningAtom", on_delete=models.CASCADE, related_name="+")
    state = models.JSONField(default=dict)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    reviews = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0)
    archived_in = models.ForeignKey(
        "learning.ProgressSnapshot",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["learner", "due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "atom"],
                condition=models.Q(archived_in__isnull=True),
                name="one_live_state_per_learner_atom",
            )
        ]
        indexes = [models.Index(fields=["learner", "due_at"])]

    def __str__(self) -> str:
        return f"{self.learner} / {self.atom_id}: due {self.due_at}"
