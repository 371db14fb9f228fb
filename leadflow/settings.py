"""leadflow settings, driven by environment variables (django-environ).

Every variable is listed in README.md. `LEADFLOW_ENV=production` switches on the deploy hardening
that `manage.py check --deploy` expects.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

# Django's generic classes (ModelAdmin[Lead], QuerySet[...]) subscriptable at runtime, as the
# type annotations write them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

LEADFLOW_ENV = env.str("LEADFLOW_ENV", default="development")
PRODUCTION = LEADFLOW_ENV == "production"

# Off unless asked for: Django's debug pages (settings, URL patterns) never reach users, and the
# UI's own error pages show in their place, in `make run` too.
DEBUG = env.bool("DEBUG", default=False)
if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str(
        "SECRET_KEY", default="dev-only-insecure-key-not-for-production-use-0123456789"
    )
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "csp",
    "axes",
    "leadflow",
    "accounts",
    "leads",
    "scoring",
    "handoff",
    "integrations",
    "analytics",
    "web",
]

MIDDLEWARE = [
    "leadflow.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "leadflow.query_params.UnknownQueryParamsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "leadflow.middleware.LoginRateLimitMiddleware",
    "web.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "leadflow.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "leadflow.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a lockout into its 429 response.
    "axes.middleware.AxesMiddleware",
]

# A Content-Security-Policy on every response: our own origin only, no inline script, no frames.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username from this address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout: this many failures for one username from one address locks that pair out.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "web.views.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "leadflow.clientip.client_ip"
# Reverse proxies (CIDRs) whose X-Forwarded-For names the client (leadflow.clientip).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# Rate limits per client (API key, else user, else address), counted atomically in the cache
# (Redis): "<requests>/<s|m|h>", empty to switch one off. Over the limit: 429 with Retry-After.
RATE_LIMITS = {
    "intake": env.str("RATE_LIMIT_INTAKE", default="50/s"),
    "events": env.str("RATE_LIMIT_EVENTS", default="20/s"),
    "login": env.str("RATE_LIMIT_LOGIN", default="20/m"),
    # Public web forms, per address.
    "forms": env.str("RATE_LIMIT_FORMS", default="10/m"),
}
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True

ROOT_URLCONF = "leadflow.urls"
WSGI_APPLICATION = "leadflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's own pages live in the top-level templates/; apps' (admin, DRF) in theirs.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csrf",
                "web.context_processors.ui",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'leadflow.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded mode writes from the web threads and the scheduler's thread: write-ahead
    # logging lets readers run beside a writer, and a writer takes its lock when it begins
    # (IMMEDIATE) and waits for another instead of failing at its first write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
# A health check costs a `SELECT 1` round trip at the start of every request. Without it, a
# connection that died (a database restart) fails one request with a 503 and is replaced.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Tokyo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Outside production the static files are served from the apps' folders (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Request bodies: refused with 413 problem+json above this size (BodySizeLimitMiddleware).
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# CSV uploads (the web UI's import page) may be larger; they stream to a temporary file.
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
UPLOAD_PATHS = ["/imports/"]
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=1000)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.auth.ApiKeyAuthentication",
        "accounts.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every view declares its own permission; this default only refuses what forgot to.
    "DEFAULT_PERMISSION_CLASSES": ["leadflow.permissions.DenyAll"],
    # Views that need a limit name it (leadflow.throttles); nothing is throttled by default.
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_PARSER_CLASSES": ["leadflow.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "leadflow.problems.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "leadflow API",
    "DESCRIPTION": "Leads, lifecycle transitions, definitions and intake. Errors are RFC 9457 "
    "application/problem+json.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets are served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Ids in paths (leadflow.converters): whole numbers of at most 18 digits.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999}
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "leadflow.problems.add_problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LeadStateEnum": "leads.choices.LeadState",
        "DefinitionStatusEnum": "leads.choices.DefinitionStatus",
        "TransitionNameEnum": "leads.choices.TransitionName",
        "FunctionEnum": "leadflow.choices.Function",
        "SourceEnum": "leads.choices.Source",
        "ActorKindEnum": "leads.choices.ActorKind",
        "DraftStatusEnum": [("draft", "Draft")],
    },
}

API_KEY_CUSTOM_HEADER = None
# How long a user's API token (`POST /api/v1/auth/token/`) stays valid.
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=30 * 24)
# How long a process trusts an API key it verified (a revoked key stops working within this).
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=30)

# Celery: the broker is Redis. Without REDIS_URL (make run) jobs run in-process.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and (_xdist := os.environ.get("PYTEST_XDIST_WORKER", "")).startswith("gw"):
    # The suite in parallel processes (pytest-xdist's gw0, gw1, …), each with a test database of
    # its own: a Redis database each too, so that one's Celery worker never takes another's task.
    _redis = urlsplit(REDIS_URL)
    _db = (int(_redis.path.strip("/") or 0) + 1 + int(_xdist[2:])) % 16
    REDIS_URL = _redis._replace(path=f"/{_db}").geturl()
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=840)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
# The longest `time_limit` a task declares (the full recompute, the repoint, the nightly job);
# tests/leadflow/test_tasks_config.py holds every task to it.
CELERY_LONGEST_TASK_SECONDS = env.int("CELERY_LONGEST_TASK_SECONDS", default=7200)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Seconds before a task whose worker died unacknowledged is delivered again: always longer
    # than the longest task may run (`leadflow.celery.limits` caps every task at it), or a long
    # task would be delivered (and run) twice at once.
    "visibility_timeout": max(
        env.int("CELERY_VISIBILITY_TIMEOUT", default=0),
        CELERY_LONGEST_TASK_SECONDS + max(1, CELERY_LONGEST_TASK_SECONDS // 12),
    ),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# A broker outage must not hold a request: publish fails fast and the sweep picks the work up.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BEAT_SCHEDULE = {
    "jobs-requeue": {"task": "leadflow.tasks.jobs_requeue_sweep", "schedule": 60.0},
    "idempotency-purge": {"task": "leads.tasks.idempotency_purge", "schedule": 3600.0},
    "funnel-rollups": {"task": "leads.tasks.stage_rollups_compact", "schedule": 60.0},
    "figure-rollups": {"task": "analytics.tasks.figures_compact", "schedule": 60.0},
    "scoring-sweep": {"task": "scoring.tasks.score_sweep", "schedule": 60.0},
    # The predictive score: trained on the outcomes, then every lead scored (SPEC §14).
    "win-model-nightly": {
        "task": "analytics.tasks.win_model_nightly",
        "schedule": crontab(hour=3, minute=30),
    },
    # The advisor's stored reports for the default period, for every scope asked for lately.
    "advisor-nightly": {
        "task": "analytics.tasks.advisor_nightly",
        "schedule": crontab(hour=4, minute=0),
    },
    "handoff-sla-sweep": {"task": "handoff.tasks.handoff_sla_sweep", "schedule": 60.0},
    "recycle-sweep": {"task": "handoff.tasks.recycle_sweep", "schedule": 3600.0},
    "webhook-sweep": {"task": "handoff.tasks.webhook_sweep", "schedule": 60.0},
    "scoring-nightly-recompute": {
        "task": "scoring.tasks.score_recompute_nightly",
        "schedule": crontab(hour=3, minute=0),
    },
}
# A job still queued this long after it was created (or last sent) is sent again.
JOB_REQUEUE_AFTER_SECONDS = env.int("JOB_REQUEUE_AFTER_SECONDS", default=300)
# Handoff SLA: the assignee is warned when this fraction of the SLA has passed.
HANDOFF_WARNING_FRACTION = env.float("HANDOFF_WARNING_FRACTION", default=0.75)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_BACKOFF_SECONDS = env.float("WEBHOOK_BACKOFF_SECONDS", default=30.0)
# Private destinations webhooks may go to anyway (CIDRs, e.g. an internal CRM); by default only
# public addresses (handoff.destinations).
WEBHOOK_ALLOWED_PRIVATE = env.list("WEBHOOK_ALLOWED_PRIVATE", default=[])
# Leads per chunk of a recompute: bounds memory and the length of each transaction.
SCORING_CHUNK_SIZE = env.int("SCORING_CHUNK_SIZE", default=50_000)
# The outcomes the predictive score is trained on: those of the last this many days.
WIN_MODEL_HISTORY_DAYS = env.int("WIN_MODEL_HISTORY_DAYS", default=730)
# The advisor reads a stored report younger than this (0: always computes anew), and the nightly
# pass keeps recomputing the scopes asked for in this many days.
ADVISOR_SNAPSHOT_HOURS = env.float("ADVISOR_SNAPSHOT_HOURS", default=25.0)
ADVISOR_SNAPSHOT_KEEP_DAYS = env.int("ADVISOR_SNAPSHOT_KEEP_DAYS", default=30)
# The advisor page computes a missing report in the request up to this many leads in all;
# above, in a job (the page shows its progress), never near the server's timeout.
ADVISOR_INLINE_LEADS = env.int("ADVISOR_INLINE_LEADS", default=200_000)
# Event ids per transaction when the stored points are brought up to new rules.
SCORING_REPOINT_CHUNK_SIZE = env.int("SCORING_REPOINT_CHUNK_SIZE", default=200_000)
# PostgreSQL work_mem for the one aggregate pass of a full recompute (a hash aggregate per lead).
SCORING_WORK_MEM = env.str("SCORING_WORK_MEM", default="256MB")

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="leadflow@localhost")

# Domain settings.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="JP")
CURRENCY = env.str("CURRENCY", default="JPY")
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
# How long a request waits for an in-flight twin with the same Idempotency-Key before 409.
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=5.0)
EVENTS_MAX_BATCH = 1000

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
