"""Local development: the embedded default, with DEBUG on unless the environment says otherwise."""

import os

from .local_secret import local_secret_key

os.environ.setdefault("DJANGO_SECRET_KEY", local_secret_key())

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
INTERNAL_IPS = ["127.0.0.1"]
