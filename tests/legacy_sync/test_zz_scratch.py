import time
import pytest
from collections import Counter
from apps.legacy_sync.fixture import legacy_fixture_build
from apps.legacy_sync.backfill.runner import backfill_run
from apps.legacy_sync.models import QuarantinedRow, MergedLegacyRow, StreakComparison, BackfillCheckpoint
from apps.legacy_sync.selectors import conservation_report

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)

def test_scratch(tmp_path):
    t = time.time()
    r = legacy_fixture_build(users=40, sessions=60, attempts=400, bits=50, seed=1, dirty=True, json_dir=tmp_path)
    print("fixture", time.time() - t, r.dirty, r.counts)
    t = time.time()
    backfill_run(json_dir=tmp_path, batch_size=50)
    print("backfill", time.time() - t)
    for q in QuarantinedRow.objects.all():
        print(q.entity, q.legacy_key, q.reason, q.blocked_by, q.raw)
    for m in MergedLegacyRow.objects.all():
        print(m.entity, m.legacy_key, m.merged_into, m.rule)
    for s in StreakComparison.objects.filter(entity="json_streaks"):
        print(s.legacy_key, s.agrees)
    for row in conservation_report(json_dir=tmp_path):
        print(row)
    t = time.time()
    backfill_run(json_dir=tmp_path, batch_size=50)
    print("backfill2", time.time() - t)
    print(list(BackfillCheckpoint.objects.values()))
