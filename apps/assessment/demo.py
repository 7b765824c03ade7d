"""The demo course's mock test blueprint (load_demo), so a learner can sit a test at once."""

from apps.curriculum.models import Unit

from .models import MockTestBlueprint
from .services import SectionInput, mock_test_blueprint_save

# (unit title, items): within the demo course's published atoms per unit (4 and 7).
DEMO_SECTIONS = [("Road signs", 3), ("Speed and stopping", 5)]


def demo_blueprint_load(*, course, by) -> MockTestBlueprint:
    """The course's blueprint: made once, through the service; an existing one (perhaps
    edited in the admin) is left as it is."""
    existing = MockTestBlueprint.objects.filter(course=course).first()
    if existing is not None:
        return existing
    units = {unit.title: unit for unit in Unit.objects.filter(course=course)}
    return mock_test_blueprint_save(
        blueprint=MockTestBlueprint(course=course, time_limit_minutes=10, pass_mark_percent=75),
        sections=[
            SectionInput(unit=units[title], concept=None, item_count=count)
            for title, count in DEMO_SECTIONS
        ],
        by=by,
        source="system",
    )
