"""Which files outside a folder did traced processes touch? Reads an ``strace -f -e trace=%file``
log and prints every path outside ``--root`` that is not the system's own (the Python
installation, shared libraries, /etc, /proc, ...). Exit 1 when there is one: a fresh clone must
not read anything beside itself. Paths under ``--deny`` (the clone's parent) are never the
system's own, whatever folder they sit in."""

import argparse
import os
import re
import sys

# Temporary folders count as the system's (SQLite and tempfile use them); ``--deny`` keeps the
# clone's own parent out even when it is one of them.
SYSTEM = ("/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev", "/run",
          "/tmp", "/var/tmp")  # fmt: skip  # noqa: S108
# `1234 openat(AT_FDCWD, "/path", O_RDONLY) = 3`; the first quoted argument is the path.
CALL = re.compile(r'^(?:\[pid\s+)?(?P<pid>\d+)\]?\s+(?P<call>\w+)\((?:[^"]*?)"(?P<path>[^"]*)"')
# Calls that name a path without reading it.
NOT_READS = {"getcwd", "chdir"}
# Python's start-up looks for its zipped standard library beside every folder above itself.
STDLIB_ZIP = re.compile(r"/python3\d+\.zip$")


def is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def outside_paths(lines, *, root: str, deny: str, allowed: tuple[str, ...]) -> list[str]:
    found = []
    for line in lines:
        match = CALL.match(line)
        if not match or match["call"] in NOT_READS:
            continue
        raw = match["path"]
        path = os.path.normpath(raw if raw.startswith("/") else f"{root}/{raw}")
        if is_within(path, root) or STDLIB_ZIP.search(path):
            continue
        # Resolving a path stats every folder above it: the clone's and the system's own.
        if any(is_within(folder, path) for folder in (root, *allowed)):
            continue
        system = any(is_within(path, prefix) for prefix in allowed)
        if (is_within(path, deny) or not system) and path not in found:
            found.append(path)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("log", help="the strace output file")
    parser.add_argument("--root", required=True, help="the exported tree")
    parser.add_argument("--deny", required=True, help="the folder holding the tree")
    parser.add_argument("--allow", action="append", default=[], help="another system prefix")
    args = parser.parse_args()
    allowed = (*SYSTEM, *args.allow)
    with open(args.log, errors="replace") as log:
        found = outside_paths(log, root=args.root, deny=args.deny, allowed=allowed)
    for path in found:
        print(f"read outside the clone: {path}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
