from apps.content.atom_types import get_atom_type
from apps.content.models import AtomStatus
from apps.content.services import ConceptWeightInput, atom_create
from tests.curriculum.factories import ConceptFactory


def make_atom(
    atom_type: str = "mcq",
    *,
    concept=None,
    status: str = AtomStatus.PUBLISHED,
    title: str | None = None,
    content: dict | None = None,
    grading_logic: dict | None = None,
    options=None,
    by=None,
    **metadata,
):
    """An atom built through the real service, from the type's example payload by default."""
    kind = get_atom_type(atom_type)
    concept = concept or ConceptFactory()
    return atom_create(
        by=by,
        title=title or f"{kind.label} example",
        atom_type=atom_type,
        content=content if content is not None else kind.example_content,
        grading_logic=grading_logic if grading_logic is not None else kind.example_grading_logic,
        options=options if options is not None else kind.example_options,
        concept_weights=[ConceptWeightInput(concept)],
        status=status,
        **metadata,
    )


def republish(atom):
    """Take an edited atom back through review to published, as a superuser would."""
    from apps.content.services import atom_transition
    from tests.accounts.factories import UserFactory

    boss = UserFactory(is_staff=True, is_superuser=True)
    for action in ("submit", "approve", "publish"):
        atom = atom_transition(atom=atom, action=action, by=boss, source="admin")
    return atom
