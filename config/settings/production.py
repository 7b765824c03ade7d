"""Production: DEBUG off, a required secret and host list, HTTPS everywhere.

Serve with gunicorn (see README); whitenoise serves the collected static files.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import AWS_STORAGE_BUCKET_NAME, SECRET_KEY, STORAGES, env

IS_PRODUCTION = True
DEBUG = False
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be a random value of at least 50 characters, e.g. "
        '`python -c "import secrets; print(secrets.token_urlsafe(50))"`.'
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# Media: S3 (AWS_STORAGE_BUCKET_NAME), or MEDIA_ROOT served by the app itself on one host.
# Neither means atom images and audio would 404, so production refuses to start.
SERVE_LOCAL_MEDIA = env.bool("DJANGO_SERVE_LOCAL_MEDIA", default=False)
if not AWS_STORAGE_BUCKET_NAME and not SERVE_LOCAL_MEDIA:
    raise ImproperlyConfigured(
        "Media files need a home in production: set AWS_STORAGE_BUCKET_NAME (S3), or "
        "DJANGO_SERVE_LOCAL_MEDIA=true to serve MEDIA_ROOT from the app (a single host)."
    )

STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Load balancers probe these over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
