"""Test settings: the same integrations as base (PostgreSQL and Redis when their URLs are set),
with fast hashing and eager Celery. Integration tests switch eager mode off and use a real
worker (tests/conftest.py)."""

import os
from pathlib import Path

from .local_secret import local_secret_key

os.environ.setdefault("DJANGO_SECRET_KEY", local_secret_key())

from .base import *  # noqa: F403
from .base import CACHES, REDIS_URL, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# apps/core/process_memo.py: tests change the shared cache directly, so no copies kept in-process
PROCESS_MEMO = False

if REDIS_URL:
    # Tests clear the cache between tests; keep that away from the broker's database, and give
    # each pytest-xdist worker (gw0, gw1...) its own: 15, 14...
    _xdist_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    CACHES["default"]["LOCATION"] = env(
        "TEST_CACHE_REDIS_URL", default=f"redis://127.0.0.1:6379/{15 - _xdist_worker}"
    )
    CACHES["default"]["KEY_PREFIX"] = "adaptive-test"

# SQLite test databases live in files, not memory: an in-memory database is one connection
# that Django shares between the test and the live server's threads, and two threads on one
# SQLite connection can block each other for good (the browser journeys poll while a request
# runs). A file gives every thread its own connection, with WAL and the busy timeout.
# TEST_SQLITE_DIR lets two suites run side by side on one checkout.
_test_sqlite_dir = Path(env("TEST_SQLITE_DIR", default=str(VAR_DIR)))  # noqa: F405
for _alias, _database in DATABASES.items():  # noqa: F405
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        _database["TEST"] = {"NAME": str(_test_sqlite_dir / f"test_{_alias}.sqlite3")}

# A second alias for tests/core/test_replica_router.py: the replica as a test mirror of default
# (the same test database through its own connection, which sees only committed rows, like a
# lagging replica). Replica reads stay off unless a test turns REPLICA_READS_ENABLED on, so
# every other test reads from default only.
_replica = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
if _replica["ENGINE"] == "django.db.backends.sqlite3":
    # A test opens a transaction on the mirror too; a reader must not wait for default's lock.
    _replica["OPTIONS"] = {**_replica["OPTIONS"], "transaction_mode": "DEFERRED"}
DATABASES["replica"] = _replica  # noqa: F405
REPLICA_READS_ENABLED = False
