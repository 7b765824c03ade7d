import hashlib
import json

import pytest
from django.db import connections

from apps.legacy_sync.v1.fixture import DIRTY_KINDS, legacy_fixture_build
from apps.legacy_sync.v1.models import LegacyAttempt, LegacySession, LegacyUser
from apps.legacy_sync.v1.schema import LEGACY_TABLES

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


def table_digest() -> str:
    digest = hashlib.sha256()
    with connections["legacy"].cursor() as cursor:
        for table in LEGACY_TABLES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608 - fixed names
            digest.update(repr(cursor.fetchall()).encode())
    return digest.hexdigest()


def test_fixture_has_the_requested_size_and_is_readable_through_legacy_models(tmp_path):
    report = legacy_fixture_build(users=30, sessions=100, attempts=600, bits=60, seed=3,
                                  json_dir=tmp_path)  # fmt: skip

    assert report.counts["users"] == LegacyUser.objects.count() == 30
    assert report.counts["sessions"] == LegacySession.objects.count() == 100
    assert report.counts["attempts"] == LegacyAttempt.objects.count() == 600
    session_chapters = dict(LegacySession.objects.values_list("id", "chapter_id"))
    from apps.legacy_sync.v1.models import LegacyBit

    bit_chapters = dict(LegacyBit.objects.values_list("id", "chapter_id"))
    assert all(
        bit_chapters[a.bit_id] == session_chapters[a.session_id]
        for a in LegacyAttempt.objects.all()
    )  # clean data: attempts stay in their session's chapter
    streaks = json.loads((tmp_path / "user_data" / "streaks.json").read_text())
    assert all(key.isdigit() for key in streaks)


def test_same_seed_same_database_other_seed_other_database(tmp_path):
    legacy_fixture_build(users=20, sessions=50, attempts=300, bits=40, seed=7)
    first = table_digest()
    legacy_fixture_build(users=20, sessions=50, attempts=300, bits=40, seed=7)
    again = table_digest()
    legacy_fixture_build(users=20, sessions=50, attempts=300, bits=40, seed=8)

    assert first == again != table_digest()


def test_dirty_fixture_contains_every_kind_of_bad_row(tmp_path):
    report = legacy_fixture_build(users=40, sessions=60, attempts=400, bits=50, seed=1,
                                  dirty=True, json_dir=tmp_path)  # fmt: skip

    assert set(report.dirty) == set(DIRTY_KINDS)
    emails = [e.lower() for e in LegacyUser.objects.values_list("email", flat=True)]
    assert len(emails) - len(set(emails)) == 2  # a duplicate and a case variant
    assert LegacyAttempt.objects.filter(user_id__gt=40).exists()
    streaks = json.loads((tmp_path / "user_data" / "streaks.json").read_text())
    assert any(key.startswith("user_") for key in streaks)
    from apps.legacy_sync.v1.models import LegacyBit

    bit_chapters = dict(LegacyBit.objects.values_list("id", "chapter_id"))
    session_chapters = dict(LegacySession.objects.values_list("id", "chapter_id"))
    spanning = [
        a.pk
        for a in LegacyAttempt.objects.all()
        if a.bit_id in bit_chapters and bit_chapters[a.bit_id] != session_chapters[a.session_id]
    ]
    assert len(spanning) == 1


def test_django_never_migrates_the_legacy_database():
    from config.db_routers import LegacyRouter

    assert LegacyRouter().allow_migrate("legacy", "content") is False
    assert LegacyRouter().db_for_read(LegacyUser) == "legacy"
