"""What a new member of the migration staff runs first: ``legacy_sync_once``, ``legacy_flags``,
and ``legacy_backfill`` / ``legacy_status`` agreeing on v1's JSON progress files."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.legacy_sync.live.flags import sync_flags, sync_flags_update
from apps.legacy_sync.models import BackfillRun, FlagChange
from tests.accounts.factories import UserFactory

from .backfill_helpers import dirty_legacy_build

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# ------------------------------------------------------------------------- legacy_sync_once


def test_sync_once_with_dual_write_off_says_so_and_exits_non_zero():
    sync_flags_update(dual_write=False, kill_switch=False)

    with pytest.raises(CommandError) as excinfo:
        run("legacy_sync_once")

    message = str(excinfo.value)
    assert excinfo.value.returncode != 0
    assert "Dual write is off" in message and "kill switch" not in message.lower()
    assert "legacy_flags --dual-write on" in message and "LEGACY_DUAL_WRITE" in message


def test_sync_once_with_the_kill_switch_on_names_the_kill_switch():
    sync_flags_update(dual_write=True, kill_switch=True)

    with pytest.raises(CommandError, match="The kill switch is on") as excinfo:
        run("legacy_sync_once")

    assert "legacy_flags --kill-switch off" in str(excinfo.value)


# ------------------------------------------------------------------------------ legacy_flags


def test_legacy_flags_shows_every_flag():
    out = run("legacy_flags")

    for line in ("dual_write                 off", "read_source                v2",
                 "adaptive_rollout_percent   0", "shadow_read_percent        10",
                 "kill_switch                off"):  # fmt: skip
        assert line in out
    assert not FlagChange.objects.exists()  # showing changes nothing


def test_legacy_flags_sets_each_flag_audited_as_an_admin_change_is():
    staff = UserFactory(is_staff=True)

    out = run("legacy_flags", "--dual-write", "on", "--read-source", "v1",
              "--rollout-percent", "25", "--shadow-percent", "40", "--kill-switch", "on",
              "--note", "pilot week", "--by", staff.email)  # fmt: skip

    flags = sync_flags()
    assert (flags.dual_write, flags.read_source, flags.adaptive_rollout_percent,
            flags.shadow_read_percent, flags.kill_switch) == (True, "v1", 25, 40, True)  # fmt: skip
    assert "Changed dual_write: off → on" in out and "kill_switch                on" in out
    # one FlagChange per changed flag, as the admin's save writes them
    audit = {(c.flag, c.old_value, c.new_value, c.changed_by_id, c.note)
             for c in FlagChange.objects.all()}  # fmt: skip
    note = "legacy_flags: pilot week"
    assert audit == {
        ("dual_write", "False", "True", staff.pk, note),
        ("read_source", "v2", "v1", staff.pk, note),
        ("adaptive_rollout_percent", "0", "25", staff.pk, note),
        ("shadow_read_percent", "10", "40", staff.pk, note),
        ("kill_switch", "False", "True", staff.pk, note),
    }
    assert flags.updated_by == staff

    # setting a flag to the value it has records nothing new
    run("legacy_flags", "--dual-write", "on")
    assert FlagChange.objects.count() == 5


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--rollout-percent", "140"], "--rollout-percent"),
        (["--shadow-percent", "-1"], "--shadow-percent"),
        (["--dual-write", "maybe"], "--dual-write"),
        (["--kill-switch", "yes"], "--kill-switch"),
        (["--read-source", "v3"], "--read-source"),
        (["--rollout-percent", "ten"], "--rollout-percent"),
    ],
)
def test_legacy_flags_refuses_a_bad_value_naming_the_flag(args, named):
    with pytest.raises(CommandError, match=named):
        run("legacy_flags", *args)

    flags = sync_flags()
    assert (flags.dual_write, flags.adaptive_rollout_percent, flags.shadow_read_percent) == (
        False, 0, 10,
    )  # fmt: skip
    assert not FlagChange.objects.exists()


def test_legacy_flags_refuses_an_unknown_staff_user():
    with pytest.raises(CommandError, match=r"--by: no staff user has the email nobody@x\.test"):
        run("legacy_flags", "--dual-write", "on", "--by", "nobody@x.test")
    assert not sync_flags().dual_write


# ----------------------------------------------------- JSON progress files: backfill and status


def status(*args) -> dict:
    return json.loads(run("legacy_status", "--json", *args))


def json_rows(result: dict) -> dict:
    return {name: result["entities"][name] for name in ("json_attempts", "json_streaks")}


def test_backfill_and_status_given_the_same_setting_count_the_same_json_rows(tmp_path, settings):
    # given v1's files where LEGACY_JSON_DIR points, and neither command told where they are
    settings.LEGACY_JSON_DIR = tmp_path / "v1"
    dirty_legacy_build(settings.LEGACY_JSON_DIR)
    before = json_rows(status())

    out = run("legacy_backfill")

    after = status()
    assert f"Reading v1's JSON progress files from {tmp_path / 'v1' / 'user_data'}" in out
    assert before["json_attempts"]["legacy"] == 26 and before["json_streaks"]["legacy"] == 4
    for name, row in json_rows(after).items():
        assert row["legacy"] == before[name]["legacy"], name
        assert row["legacy"] == row["migrated"] + row["quarantined"] > 0, name
    assert after["json_dir"] == str(tmp_path / "v1" / "user_data")


def test_status_counts_the_files_the_last_backfill_read(tmp_path, settings):
    # given a backfill told to read the user_data folder itself, elsewhere than the setting
    settings.LEGACY_JSON_DIR = tmp_path / "not-here"
    dirty_legacy_build(tmp_path / "export")
    user_data = tmp_path / "export" / "user_data"

    run("legacy_backfill", "--json-dir", str(user_data))

    # then the run records the folder, and status counts it without being told
    assert BackfillRun.objects.get().json_dir == str(user_data)
    rows = json_rows(status())
    assert rows["json_attempts"]["legacy"] == 26 and rows["json_attempts"]["pending"] == 0
    assert rows["json_streaks"]["legacy"] == 4 and rows["json_streaks"]["pending"] == 0
    # and an explicit folder still wins
    assert json_rows(status("--json-dir", str(tmp_path / "empty")))["json_attempts"]["legacy"] == 0


def test_json_dir_may_be_the_user_data_folder_or_its_parent(tmp_path):
    dirty_legacy_build(tmp_path)

    via_parent = json_rows(status("--json-dir", str(tmp_path)))
    via_user_data = json_rows(status("--json-dir", str(tmp_path / "user_data")))

    assert via_parent == via_user_data
    assert via_parent["json_attempts"]["legacy"] == 26


def test_backfill_refuses_a_json_dir_with_neither_layout(tmp_path):
    dirty_legacy_build(tmp_path / "v1")
    (tmp_path / "wrong").mkdir()
    (tmp_path / "wrong" / "notes.txt").write_text("not v1's files")

    with pytest.raises(CommandError, match=r"No v1 JSON progress files in .*wrong") as excinfo:
        run("legacy_backfill", "--json-dir", str(tmp_path / "wrong"))

    assert "json_attempts,json_streaks out of --entities" in str(excinfo.value)
    assert not BackfillRun.objects.exists()  # refused before anything ran
    # leaving the JSON entities out needs no folder
    run("legacy_backfill", "--entities", "users", "--json-dir", str(tmp_path / "wrong"))
    assert BackfillRun.objects.get().json_dir == ""
