"""Search runs full-text on PostgreSQL (CI) and icontains on SQLite (make test): same answers."""

import pytest
from django.db import connection

from apps.content.models import AtomStatus
from apps.content.selectors import atom_search
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def atoms():
    concept = ConceptFactory(text="Transport layer")
    return {
        "tcp": make_atom(
            "mcq",
            concept=concept,
            title="TCP ordering",
            content={"prompt": "Which protocol retransmits lost segments?"},
            difficulty=2,
        ),
        "dns": make_atom(
            "mcq",
            title="DNS",
            content={"prompt": "What resolves hostnames?"},
            status=AtomStatus.DRAFT,
            difficulty=4,
        ),
        "card": make_atom(
            "flashcard",
            concept=concept,
            title="Ports",
            content={"front": "Port of HTTPS?", "back": "443"},
        ),
    }


def titles(queryset):
    return sorted(atom.title for atom in queryset)


def test_text_search_matches_content_and_option_text(atoms):
    assert titles(atom_search(text="retransmits")) == ["TCP ordering"]
    assert titles(atom_search(text="hostnames")) == ["DNS"]
    assert titles(atom_search(text="ICMP")) == ["DNS", "TCP ordering"]  # an option's text
    assert titles(atom_search(text="nothing-matches-this")) == []


def test_filters_combine(atoms):
    concept = atoms["tcp"].concepts.get()

    assert titles(atom_search(atom_type="flashcard")) == ["Ports"]
    assert titles(atom_search(status=AtomStatus.DRAFT)) == ["DNS"]
    assert titles(atom_search(concept=concept)) == ["Ports", "TCP ordering"]
    assert titles(atom_search(difficulty=4)) == ["DNS"]
    assert titles(atom_search(text="protocol", concept=concept)) == ["TCP ordering"]


def test_tag_filter(atoms):
    from apps.content.services import atom_tags_set

    atom_tags_set(atom=atoms["card"], names=["Networking"])

    assert titles(atom_search(tag="networking")) == ["Ports"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN indexes exist on PostgreSQL")
def test_postgres_uses_full_text_search_backed_by_gin_indexes(atoms):
    query = str(atom_search(text="retransmits").query)
    assert "to_tsvector" in query and "websearch_to_tsquery" in query
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'content_learningatom'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"atom_search_vector_gin", "atom_content_gin"} <= names
