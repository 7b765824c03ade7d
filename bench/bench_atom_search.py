"""Editor atom search on PostgreSQL: full-text search over the GIN index against the
icontains scan it replaces, on the same table in the same run.

Needs a PostgreSQL server (default postgres://postgres@127.0.0.1:5432); it creates and drops a
scratch database. Run: .venv/bin/python bench/bench_atom_search.py [atoms]
"""

import random
import sys
import time

from _common import connections_close, databases_create, databases_drop, django_setup, scratch_name

SCRATCH = scratch_name("search")

WORDS = [
    "signal",
    "mirror",
    "junction",
    "roundabout",
    "hazard",
    "brake",
    "tyre",
    "overtaking",
    "motorway",
    "lane",
    "cyclist",
    "pedestrian",
    "crossing",
    "speed",
    "limit",
    "stopping",
    "distance",
    "visibility",
    "fog",
    "skid",
    "parking",
    "junction",
    "protocol",
    "segment",
    "packet",
    "router",
    "latency",
    "bandwidth",
    "checksum",
    "socket",
    "handshake",
    "congestion",
]


def populate(count: int) -> None:
    from apps.content.models import LearningAtom

    rng = random.Random(7)
    atoms = []
    for n in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(30))
        atoms.append(
            LearningAtom(
                title=f"Atom {n}",
                atom_type="flashcard",
                content={"front": words[:80], "back": words[80:]},
                search_text=words + (" zebra" if n % 1000 == 0 else ""),
            )
        )
    LearningAtom.objects.bulk_create(atoms, batch_size=2000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE content_learningatom")


def timed(label: str, run, repeats: int = 20) -> float:
    run()  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        result = run()
    elapsed_ms = (time.perf_counter() - started) * 1000 / repeats
    print(f"{label:<40} {elapsed_ms:8.2f} ms/query   ({result} hits)")
    return elapsed_ms


def main(count: int) -> None:
    databases_create(SCRATCH)
    try:
        django_setup(SCRATCH)
        populate(count)
        from django.db.models import Q

        from apps.content.models import LearningAtom
        from apps.content.selectors import atom_search

        print(f"atoms                                    {count}")
        baseline = timed(
            "icontains scan (baseline)",
            lambda: LearningAtom.objects.filter(
                Q(title__icontains="zebra") | Q(search_text__icontains="zebra")
            ).count(),
        )
        fts = timed("full-text search (GIN)", lambda: atom_search(text="zebra").count())
        print(f"speed-up fts vs scan                     {baseline / fts:8.1f}x")
    finally:
        connections_close()
        databases_drop(SCRATCH)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
