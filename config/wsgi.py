import gc
import os

from django.core.wsgi import get_wsgi_application

# Servers and workers run production settings unless told otherwise (make worker says dev).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, their modules: about 150k objects) lives as long
# as the process: moved out of the garbage collector's sight, a full collection scans only
# what requests left behind. Measured in-process: a full collection took 100 ms (the p99 of a
# one-at-a-time run was that pause), 14 ms after the freeze.
gc.freeze()
