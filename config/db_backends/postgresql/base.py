"""Django's PostgreSQL backend, without the reuse health check of a connection used moments ago.

With ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` before the first query of every request
that reuses a connection: a round trip per request, about 2% of a request's CPU in the mixed
load. A connection that ran a query less than ``DATABASE_HEALTH_CHECK_DELAY_S`` ago (5 s by
default) is trusted instead, as PgBouncer's ``server_check_delay`` does; one idle for longer is
checked as before. A connection that broke within that time (the server restarted) fails the
request that uses it, and Django then closes it (``errors_occurred``): the next request gets a
new one. 0 checks every request, as stock Django does.
"""

import time

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    used_at = float("-inf")  # time.monotonic() of the last cursor this connection gave

    def close_if_health_check_failed(self):
        delay = getattr(settings, "DATABASE_HEALTH_CHECK_DELAY_S", 0)
        if (
            self.connection is not None
            and not self.health_check_done
            and time.monotonic() - self.used_at < delay
        ):
            self.health_check_done = True  # used moments ago: trusted
            return
        super().close_if_health_check_failed()

    def _cursor(self, name=None):
        cursor = super()._cursor(name)
        self.used_at = time.monotonic()
        return cursor

    def close(self):
        self.used_at = float("-inf")  # a new connection starts unchecked-for
        super().close()
