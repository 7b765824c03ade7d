"""Settings shared by every environment.

Everything is read from the environment through django-environ. With nothing set, the
product runs embedded: SQLite under ``var/``, eager Celery, a local-memory cache and media on
the filesystem. Each real integration is switched on by its own variable:
``DATABASE_URL``, ``LEGACY_DATABASE_URL``, ``REDIS_URL`` and ``AWS_STORAGE_BUCKET_NAME``.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
# A local .env is a convenience for development; real deployments set the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Required, with no default: dev and test give it one of the checkout's own (local_secret.py).
SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Production refuses demo data; see config/settings/production.py.
IS_PRODUCTION = False

INSTALLED_APPS = [
    "apps.accounts.admin_config.MFAAdminConfig",  # django.contrib.admin, with staff MFA
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "storages",
    "django_jsonform",
    "apps.core",
    "apps.accounts",
    "apps.curriculum",
    "apps.content",
    "apps.learning",
    "apps.scheduler",
    "apps.assessment",  # mock tests
    "apps.leagues",  # weekly leagues
    "apps.achievements",  # badges
    "apps.analytics",  # the analytics event log
    "apps.experiments",  # experiments between scheduling algorithms
    "django_celery_beat",
]
# The migration app for the legacy v1 platform. At cutover it is switched off (then deleted):
# its admin, URLs, beat tasks and readiness check go with it, and v2 answers alone.
LEGACY_SYNC_ENABLED = env.bool("LEGACY_SYNC_ENABLED", default=True)
if LEGACY_SYNC_ENABLED:
    INSTALLED_APPS.append("apps.legacy_sync")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): staff MFA
    "django.contrib.messages.middleware.MessageMiddleware",
    "apps.core.middleware.AdminQueryGuardMiddleware",
    # After AuthenticationMiddleware (and DRF's view), so it sees who wrote.
    "apps.core.middleware.ReplicaPinMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees lockouts raised anywhere in the stack.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
    # The legacy v1 database is external: never migrated here (see config/db_routers.py).
    "legacy": env.db("LEGACY_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'legacy.sqlite3'}"),
}
# An optional streaming replica of default (README: "Read replica"). Only progress, statistics
# and the migration status pages read from it; never migrated, never written.
REPLICA_DATABASE_URL = env("REPLICA_DATABASE_URL", default="")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = env.db("REPLICA_DATABASE_URL")
for _database in DATABASES.values():
    _database["ATOMIC_REQUESTS"] = False  # services own their transactions
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL and a busy timeout let the dev server, a worker and a shell share the file.
        # IMMEDIATE takes the write lock when a transaction begins: a deferred one that reads,
        # then writes, cannot wait for the lock and fails at once with "database is locked".
        _database.setdefault("OPTIONS", {}).update(
            {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    else:
        _database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        _database["CONN_HEALTH_CHECKS"] = True
        if _database["ENGINE"] == "django.db.backends.postgresql":
            # Django's, with the health check skipped for a connection used moments ago
            _database["ENGINE"] = "config.db_backends.postgresql"
# Prepared statements on this project's own databases: PostgreSQL parses and plans each hot
# statement once per connection, not once per execution (its CPU per answer fell by a third).
# psycopg prepares a statement at its 6th run; that needs server-side binding. The legacy v1
# database keeps client-side binding: its raw SQL is not ours to audit. Off for a pooler in
# transaction mode that cannot carry them (PgBouncer before 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
for _alias, _database in DATABASES.items():
    if _database["ENGINE"] != "config.db_backends.postgresql" or _alias == "legacy":
        continue
    if DATABASE_PREPARED_STATEMENTS:
        _database.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
# A connection that ran a query this recently is reused without Django's SELECT 1 health check
# (config/db_backends/postgresql/base.py); 0 checks before every request, as stock Django does.
DATABASE_HEALTH_CHECK_DELAY_S = env.float("DATABASE_HEALTH_CHECK_DELAY_S", default=5.0)
DATABASE_ROUTERS = ["config.db_routers.LegacyRouter", "config.db_routers.ReplicaRouter"]
REPLICA_READS_ENABLED = "replica" in DATABASES
# After their own write, a user reads from the primary for this long: more than the replica's
# usual lag (pg_stat_replication's replay_lag).
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=5)
if REPLICA_PIN_SECONDS < 1:
    raise ImproperlyConfigured(
        f"REPLICA_PIN_SECONDS must be at least 1 (got {REPLICA_PIN_SECONDS}): a learner "
        "would not read their own writes."
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and authentication -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# The browsable API's login (/api/auth/login/) without ?next= lands on the caller, not a 404.
LOGIN_REDIRECT_URL = "/api/v1/me/"
ADMIN_URL_PREFIX = "/admin/"
# The issuer authenticator apps show beside a staff account's codes.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Adaptive Learning")
ADMIN_SEARCH_MAX_WORDS = env.int("ADMIN_SEARCH_MAX_WORDS", default=20)
# /readyz shows its details (engines, broker address, latencies) to staff and to this token.
READYZ_TOKEN = env("READYZ_TOKEN", default="")

# django-axes: lock the account (by email) after repeated failures, for a cool-off period.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# By account only: many learners share a school's IP, and locking the IP would lock them all.
# Per-IP pressure is handled by DRF's anonymous throttle instead.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_CALLABLE = "apps.accounts.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "apps.accounts.throttles.client_address"

# How many proxies in front of the app append to X-Forwarded-For. 0: the client's address is
# REMOTE_ADDR and the header is ignored (a client could write anything in it). Throttles and
# lockouts both use it.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and media ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))

# The legacy v1 platform's schema, one file per dialect, carried by the legacy app (used to
# build fixture, demo and test databases; never run against a live v1 database).
LEGACY_SCHEMA_DIR = env.path(
    "LEGACY_SCHEMA_DIR", default=str(BASE_DIR / "apps" / "legacy_sync" / "v1_schema")
)

# v1's JSON progress files (user_data/), read by the backfill.
LEGACY_JSON_DIR = env.path("LEGACY_JSON_DIR", default=str(VAR_DIR / "legacy_json"))

# Live sync with v1 (apps/legacy_sync): the flags' defaults until Migration staff change them
# in the admin, and how hard the outbox tries before an entry is dead.
LEGACY_SYNC_DEFAULTS = {
    "dual_write": env.bool("LEGACY_DUAL_WRITE", default=False),
    "read_source": env("LEGACY_READ_SOURCE", default="v2"),
    "adaptive_rollout_percent": env.int("ADAPTIVE_ROLLOUT_PERCENT", default=0),
    "shadow_read_percent": env.int("SHADOW_READ_PERCENT", default=10),
    "kill_switch": env.bool("LEGACY_SYNC_KILL_SWITCH", default=False),
}
LEGACY_OUTBOX_MAX_TRIES = env.int("LEGACY_OUTBOX_MAX_TRIES", default=8)
LEGACY_OUTBOX_BATCH = env.int("LEGACY_OUTBOX_BATCH", default=500)
# How long a drain's claim on a batch lasts: a drain killed mid-batch is resent after it.
LEGACY_OUTBOX_LEASE_S = env.int("LEGACY_OUTBOX_LEASE_S", default=30)
# The beat's pull. Where the listener runs (legacy_pull_listen, woken by v1's notifications),
# raise it to 60: the beat is then only the safety net for a listener that is down.
LEGACY_PULL_INTERVAL_S = env.float("LEGACY_PULL_INTERVAL_S", default=1.0)
# The listener pulls at least this often without a notification (a lost one, a SQLite v1).
LEGACY_PULL_FALLBACK_S = env.float("LEGACY_PULL_FALLBACK_S", default=10.0)

# Scheduler: a learner's day starts at this local hour (Anki's "next day starts at"), for FSRS's
# elapsed days, fitting and evaluation; a course's fitted FSRS weights schedule it once fitted on
# this many repeat reviews (a smaller fit is kept as history).
SCHEDULER_DAY_START_HOUR = env.int("SCHEDULER_DAY_START_HOUR", default=4)
FSRS_MIN_REVIEWS = env.int("FSRS_MIN_REVIEWS", default=1000)

# Offline attempt sync: how old a client timestamp may be, and how far ahead of the server
# clock it may run, before the row is rejected.
ATTEMPT_MAX_AGE_DAYS = env.int("ATTEMPT_MAX_AGE_DAYS", default=30)
ATTEMPT_MAX_CLOCK_SKEW_S = env.int("ATTEMPT_MAX_CLOCK_SKEW_S", default=300)
ATTEMPT_BATCH_MAX = 500

# Seeds the display order of parsons/ordering/matching items; keep it stable (see README).
CONTENT_SHUFFLE_SECRET = env("CONTENT_SHUFFLE_SECRET", default=SECRET_KEY)

# Upload limits for atom media (images and audio), in bytes.
CONTENT_MEDIA_MAX_BYTES = {
    "image": env.int("CONTENT_IMAGE_MAX_BYTES", default=5_000_000),
    "audio": env.int("CONTENT_AUDIO_MAX_BYTES", default=20_000_000),
}

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
SERVE_LOCAL_MEDIA = False  # production may turn it on (config/settings/production.py)
if AWS_STORAGE_BUCKET_NAME:
    # Credentials come from the standard AWS variables or the instance role (boto3's chain).
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_CUSTOM_DOMAIN = env("AWS_S3_CUSTOM_DOMAIN", default=None)
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False
    AWS_QUERYSTRING_AUTH = env.bool("AWS_QUERYSTRING_AUTH", default=True)
    _media_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Cache and Celery ----------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, with one redis-py client per pool instead of one per call
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": env("CACHE_REDIS_URL", default=REDIS_URL),
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="adaptive"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# JWT authentication reads the user from the cache for this long (invalidated on every save,
# apps/accounts/authentication.py). Only with a cache every process shares: a local-memory
# cache per process could not be invalidated from the others.
AUTH_USER_CACHE_S = env.int("AUTH_USER_CACHE_S", default=60 if REDIS_URL else 0)
# Keep the sync flags, fitted parameters and badge definitions in each process for a few seconds
# in front of the cache (apps/core/process_memo.py): a Redis round trip less each, per request.
PROCESS_MEMO = env.bool("PROCESS_MEMO", default=True)

CELERY_BROKER_URL = REDIS_URL or "memory://"
# Embedded: run tasks in-process. Callers enqueue through apps.core.dispatch, which waits for
# the commit, so eager tasks still run "after commit" like real ones.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
# The v1 pull is latency-bound (read-after-write across systems): give it a worker of its own
# by naming a queue here, so it never waits behind bulk work.
CELERY_TASK_ROUTES = {
    "legacy_sync.pull": {"queue": env("LEGACY_PULL_QUEUE", default=CELERY_TASK_DEFAULT_QUEUE)},
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Monthly partitions of the attempt log kept ready ahead of time (PostgreSQL).
ATTEMPT_PARTITIONS_AHEAD = env.int("ATTEMPT_PARTITIONS_AHEAD", default=3)
# The analytics event log (apps/analytics): its monthly partitions kept ready (PostgreSQL), how
# long events are kept (whole months past it are dropped nightly) and how old an event must be
# before the export serves it (so that a page served never changes: apps/analytics/selectors.py).
ANALYTICS_PARTITIONS_AHEAD = env.int("ANALYTICS_PARTITIONS_AHEAD", default=3)
ANALYTICS_RETENTION_DAYS = env.int("ANALYTICS_RETENTION_DAYS", default=400)
ANALYTICS_EXPORT_SETTLE_S = env.int("ANALYTICS_EXPORT_SETTLE_S", default=5)
# Beat keeps its schedule in the database (django-celery-beat; editable in the admin) and
# loads these entries into it at start.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "core.record_worker_heartbeat", "schedule": 60.0},
    "publish-scheduled-atoms": {"task": "content.publish_scheduled", "schedule": 60.0},
    "item-statistics": {"task": "content.item_statistics_refresh", "schedule": 3600.0},
    "irt-calibration": {"task": "scheduler.irt_calibrate_all", "schedule": 86400.0},
    "bkt-fit-nightly": {"task": "scheduler.bkt_fit_all", "schedule": crontab(hour=2, minute=45)},
    "attempt-partitions": {
        "task": "learning.attempt_partitions_ensure",
        "schedule": crontab(hour=1, minute=15),
    },
    "fsrs-fit-nightly": {"task": "scheduler.fsrs_fit_all", "schedule": crontab(hour=2, minute=30)},
    "models-evaluate-nightly": {
        "task": "scheduler.course_models_evaluate_all",
        "schedule": crontab(hour=3, minute=30),
    },
    "mock-tests-expire": {"task": "assessment.mock_tests_expire", "schedule": 60.0},
    # every quarter hour: a week ends on the hour in most zones, on :30 or :45 in a few
    "leagues-week-close": {"task": "leagues.week_close", "schedule": crontab(minute="*/15")},
    "analytics-partitions": {
        "task": "analytics.partitions_ensure",
        "schedule": crontab(hour=1, minute=20),
    },
    "analytics-events-purge": {
        "task": "analytics.events_purge",
        "schedule": crontab(hour=1, minute=25),
    },
}
if LEGACY_SYNC_ENABLED:
    # Live sync with v1: pull new v1 rows, sweep the outbox, reconcile every night.
    CELERY_BEAT_SCHEDULE |= {
        "legacy-pull": {"task": "legacy_sync.pull", "schedule": LEGACY_PULL_INTERVAL_S},
        "legacy-outbox-sweep": {"task": "legacy_sync.outbox_drain", "schedule": 5.0},
        "legacy-reconcile-nightly": {
            "task": "legacy_sync.reconcile_nightly",
            "schedule": crontab(hour=3, minute=0),
        },
    }

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "apps.accounts.throttles.UserRateThrottle",  # DRF's, in one Redis round trip
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
        "user": env("API_THROTTLE_USER", default="1200/minute"),
        "login": env("API_THROTTLE_LOGIN", default="20/minute"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_SCHEMA_CLASS": "apps.core.openapi.ErrorDocumentingAutoSchema",
    "EXCEPTION_HANDLER": "apps.core.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "UPDATE_LAST_LOGIN": True,
    # A refresh gives a new refresh token and blacklists the old one: a stolen refresh token
    # works once at most, and its owner's next refresh shows the theft.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "TOKEN_REFRESH_SERIALIZER": "apps.accounts.authentication.TokenRefreshSerializer",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Adaptive Learning Platform API",
    "DESCRIPTION": (
        "Learner API: curriculum, next items, idempotent attempts and progress. "
        'Every error is `{"error": {"code", "message", "details"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from our own static files, not a CDN.
    "ENUM_NAME_OVERRIDES": {
        "MediaKindEnum": "apps.content.models.MediaKind",
        "SessionKindEnum": "apps.learning.models.SessionKind",
        "MockTestStatusEnum": "apps.assessment.api.MOCK_TEST_STATUSES",
        "LeagueTierEnum": "apps.leagues.api.TIER_SLUGS",
        "LeagueStatusEnum": "apps.leagues.api.LEAGUE_STATUSES",
        "LeagueZoneEnum": "apps.leagues.api.LEAGUE_ZONES",
        "ExperimentMetricNameEnum": "apps.experiments.api.METRIC_NAMES",
        "ExperimentAssignedByEnum": "apps.experiments.models.AssignedBy",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Logging -------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
