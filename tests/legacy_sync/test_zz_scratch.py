import io
import pytest
from django.core.management import call_command
from apps.legacy_sync.fixture import legacy_fixture_build
from apps.legacy_sync.backfill.runner import backfill_run
from apps.legacy_sync.backfill.keys import legacy_uuid
from apps.legacy_sync.backfill.quarantine import quarantine_retry
from apps.legacy_sync.models import QuarantinedRow, BackfillCheckpoint
from apps.legacy_sync.selectors import conservation_report
from apps.scheduler.models import LearnerConceptState, LearnerAtomState
from apps.accounts.models import User

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)

def test_scratch(tmp_path):
    legacy_fixture_build(users=40, sessions=60, attempts=400, bits=50, seed=1, dirty=True, json_dir=tmp_path)
    backfill_run(json_dir=tmp_path, batch_size=50)
    print(BackfillCheckpoint.objects.get(entity="learner_states").last_key, legacy_uuid("users", 4), legacy_uuid("users", 2))
    rows = list(QuarantinedRow.objects.filter(entity="users"))
    for r in rows:
        if r.legacy_key == "4": r.raw["timezone"] = "Europe/Paris"
        else: r.raw["email"] = f"fixed{r.legacy_key}@example.com"
        r.save()
    print(quarantine_retry(rows, json_dir=tmp_path))
    print([r for r in conservation_report(json_dir=tmp_path) if not r["holds"]])
    print(QuarantinedRow.objects.filter(blocked_by__startswith="users:").count())
    backfill_run(json_dir=tmp_path, batch_size=50)
    for k in "234":
        print(k, LearnerConceptState.objects.filter(learner__legacy_key=k).count(), LearnerAtomState.objects.filter(learner__legacy_key=k).count())
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("legacy_backfill", "--entities", "users", "--json-dir", str(tmp_path), stdout=out, stderr=err)
    except Exception as e:
        print("ERR", repr(e))
    print(out.getvalue()[-500:], err.getvalue()[-800:])
