"""Phase 2 and 3, while v1 and v2 are both live: the dual-write outbox (v2 → v1), the pull
(v1 → v2), the sync flags and cohorts, progress reads with shadow comparison, and the adapter
behind the core sync port."""
