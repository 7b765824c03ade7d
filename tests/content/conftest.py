"""Fixtures the content tests share: an author (who may import), and the concept import
records name (course "networks", concept "Transport")."""

import pytest

from tests.accounts.factories import UserFactory
from tests.curriculum.factories import ConceptFactory, CourseFactory


@pytest.fixture
def author():
    return UserFactory(is_staff=True, roles=["Authors"])


@pytest.fixture
def concept():
    return ConceptFactory(course=CourseFactory(slug="networks"), text="Transport")
