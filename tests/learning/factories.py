import uuid

import factory
from django.utils import timezone

from apps.learning.models import Attempt
from tests.accounts.factories import UserFactory


class AttemptFactory(factory.django.DjangoModelFactory):
    """An attempt row as the attempts API will store it (grading done by the caller)."""

    class Meta:
        model = Attempt

    learner = factory.SubFactory(UserFactory)
    atom = None  # required: pass a published atom
    revision = factory.LazyAttribute(lambda a: a.atom.published_revision)
    client_attempt_id = factory.LazyFunction(uuid.uuid4)
    response = factory.LazyAttribute(
        lambda a: {"choice": a.selected_options[0]} if a.selected_options else {}
    )
    correct = True
    score = factory.LazyAttribute(lambda a: 1.0 if a.correct else 0.0)
    quality = factory.LazyAttribute(lambda a: 4 if a.correct else 1)
    selected_options = factory.LazyFunction(list)
    answered_at = factory.LazyFunction(timezone.now)
