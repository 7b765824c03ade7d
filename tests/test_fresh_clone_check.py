"""The fresh-clone step of CI (.ci/fresh_clone) fails when the project touches a file outside
its own tree. Its judge is .ci/outside_reads.py, which reads an strace log."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JUDGE = ROOT / ".ci" / "outside_reads.py"


def judge(log: Path, clone: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, str(JUDGE), str(log), "--root", str(clone), "--deny", str(clone.parent),
         "--allow", sys.base_prefix],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture
def clone(tmp_path) -> Path:
    (tmp_path / "clone").mkdir()
    return tmp_path / "clone"


def test_a_read_beside_the_clone_fails_naming_the_path(clone):
    log = clone.parent / "trace"
    log.write_text(
        f'101 openat(AT_FDCWD, "{clone}/manage.py", O_RDONLY|O_CLOEXEC) = 3\n'
        f'101 newfstatat(AT_FDCWD, "/usr/lib/x86_64-linux-gnu/libz.so.1", {{...}}, 0) = 0\n'
        f'101 newfstatat(AT_FDCWD, "{clone.parent}", {{...}}, 0) = 0\n'
        f'101 openat(AT_FDCWD, "{clone.parent}/sibling/legacy/schema.sqlite.sql", O_RDONLY) '
        "= -1 ENOENT (No such file or directory)\n"
        '[pid   102] stat("../sibling/data/anki-review-log.csv", 0x7ffd) = -1 ENOENT\n'
        '101 openat(AT_FDCWD, "/home/someone/notes.txt", O_RDONLY) = 4\n'
    )

    result = judge(log, clone)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"read outside the clone: {clone.parent}/sibling/legacy/schema.sqlite.sql",
        f"read outside the clone: {clone.parent}/sibling/data/anki-review-log.csv",
        "read outside the clone: /home/someone/notes.txt",
    ]


def test_reads_inside_the_clone_and_of_the_system_pass(clone):
    log = clone.parent / "trace"
    log.write_text(
        f'7 openat(AT_FDCWD, "{clone}/apps/legacy_sync/v1_schema/schema.sql", O_RDONLY) = 3\n'
        '7 openat(AT_FDCWD, "data/anki-review-log.csv", O_RDONLY) = 3\n'
        f'7 newfstatat(AT_FDCWD, "{sys.base_prefix}/lib/python3.11/os.py", {{...}}, 0) = 0\n'
        '7 openat(AT_FDCWD, "/etc/localtime", O_RDONLY) = 3\n'
    )

    result = judge(log, clone)

    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")
def test_a_real_traced_process_reading_beside_the_clone_is_caught(clone):
    # given a file beside the clone, and a process in the clone that reads it
    (clone.parent / "sibling").mkdir()
    (clone.parent / "sibling" / "schema.sql").write_text("CREATE TABLE t (id int);")
    log = clone.parent.parent / f"{clone.parent.name}.trace"
    program = "open('../sibling/schema.sql').read(); open('inside.txt', 'w').write('x')"

    traced = subprocess.run(  # noqa: S603
        [shutil.which("strace"), "-f", "-qq", "-s", "4096", "-e", "trace=%file", "-o", str(log),
         sys.executable, "-c", program],
        cwd=clone, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if traced.returncode != 0 and "ptrace" in traced.stderr:
        pytest.skip(f"strace cannot trace here: {traced.stderr.strip()}")

    result = judge(log, clone)

    assert result.returncode == 1
    assert f"read outside the clone: {clone.parent}/sibling/schema.sql" in result.stderr
