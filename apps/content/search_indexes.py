"""PostgreSQL-only indexes for atom search. SQLite has no GIN, so migrations add these only
on PostgreSQL (apps/content/migrations/0002_postgres_search_indexes.py), and the search
selector uses the exact same expression so the planner can use the index."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector

# 'simple': courses are in many languages, so no language-specific stemming.
SEARCH_CONFIG = "simple"


def atom_search_vector() -> SearchVector:
    return SearchVector("title", "search_text", config=SEARCH_CONFIG)


POSTGRES_ATOM_INDEXES = [
    GinIndex(atom_search_vector(), name="atom_search_vector_gin"),
    GinIndex(fields=["content"], name="atom_content_gin", opclasses=["jsonb_path_ops"]),
]
