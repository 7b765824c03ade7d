"""Reconciliation of v1 with v2 (``legacy_reconcile``): counts and hashes over key ranges,
bisected down to the rows that differ, each difference explained or not, optionally repaired.

- entities.py: what is compared per entity, in v1's terms, and why those columns;
- ranges.py: the bisection; sides.py: reading a side (SQL on PostgreSQL, Python elsewhere);
- explain.py: the explanation rules; repair.py: ``--repair``; runner.py: the run itself.
"""

from .runner import reconcile_nightly, reconcile_run

__all__ = ["reconcile_nightly", "reconcile_run"]
