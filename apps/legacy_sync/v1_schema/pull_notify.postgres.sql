-- Not part of v1's schema: what the live pull adds to a PostgreSQL v1 so it wakes on new rows
-- (apps/legacy_sync/live/listen.py) instead of polling. Idempotent; installed by
-- `manage.py legacy_pull_notify_install` (a one-time DBA step on the real v1 database) and by
-- the v1 schema setup of fixtures, demo and tests. Removing it only makes the pull fall back to
-- its slow poll.
--
-- Statement-level, so a 2,000-row insert costs one notification, and PostgreSQL folds equal
-- notifications of one transaction into one; they are delivered at commit, so the pull never
-- wakes before the rows are visible. The payload (the table) is informational: any wake pulls.
CREATE OR REPLACE FUNCTION legacy_sync_pull_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('legacy_sync_pull', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
