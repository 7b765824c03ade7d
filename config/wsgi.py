import os

from django.core.wsgi import get_wsgi_application

# Servers and workers run production settings unless told otherwise (make worker says dev).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
