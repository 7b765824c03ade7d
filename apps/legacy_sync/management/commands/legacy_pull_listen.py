"""Run the v1 pull woken by v1's writes (live/listen.py): a long-running process of its own,
like the beat, so learners' traffic and other tasks never hold the pull up."""

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from ...live.listen import PullListener


class Command(BaseCommand):
    help = (
        "Pull new v1 rows as v1 commits them (LISTEN/NOTIFY on a PostgreSQL v1; see "
        "legacy_pull_notify_install), with a fallback poll every LEGACY_PULL_FALLBACK_S. "
        "Respects the sync flags like the beat's pull. Stops on SIGINT/SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fallback",
            type=float,
            default=None,
            help="seconds between pulls without a notification (LEGACY_PULL_FALLBACK_S)",
        )

    def handle(self, *args, fallback=None, **options):
        if options["verbosity"] >= 1 and not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        listener = PullListener(fallback_s=fallback or settings.LEGACY_PULL_FALLBACK_S)
        self.stdout.write(
            f"Listening for v1's new rows (fallback poll every {listener.fallback_s:g} s)."
        )
        listener.run(stop)
        s = listener.stats
        self.stdout.write(
            f"Stopped: {s.pulls} pulls ({s.polls} by the fallback poll), {s.notifications} "
            f"notifications, {s.reconnects} reconnects, {s.failures} failed pulls."
        )
