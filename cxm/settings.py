"""Settings, all read from the environment.

DATABASE_URL, REDIS_URL and ELASTICSEARCH_URL point CXM at real clusters; left unset, it uses the
embedded PostgreSQL and Redis that `python3 dev.py run` starts on fixed local ports.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from kombu import Exchange, Queue

from cxm.queues import DEFAULT_QUEUE, QUEUES_BY_PRIORITY, TASK_QUEUES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CXM_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    # A development key kept under var/ so that sessions and encrypted credentials survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


TESTING = env_bool("CXM_TESTING")
DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = _secret_key()
# Key for credentials encrypted at rest (Fernet, comma-separated for rotation: the first encrypts).
CXM_ENCRYPTION_KEYS = env_list("CXM_ENCRYPTION_KEYS")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "template_partials",
    "apps.core",
    "apps.accounts",
    "apps.customers",
    "apps.connectors",
    "apps.conversations",
    "apps.ingestion",
    "apps.inbox",
    "apps.listening",
    "apps.classification",
    "apps.replies",
    "apps.notifications",
    "apps.analytics",
    "apps.search",
    "apps.ocr",
    "apps.reader",
    "apps.api",
    "apps.webhooks",
    "apps.alerts",
    "apps.routing",
    "apps.automation",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.accounts.middleware.TenantMiddleware",
    "apps.core.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "cxm.urls"
WSGI_APPLICATION = "cxm.wsgi.application"
ASGI_APPLICATION = "cxm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # external_url: every template can make a link of a URL from outside only when it is http(s).
            "builtins": ["template_partials.templatetags.partials", "apps.core.templatetags.links"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.tenant",
            ],
        },
    },
]

EMBEDDED_DATABASE_URL = "postgresql://postgres@127.0.0.1:54329/cxm"
EMBEDDED_REDIS_URL = "redis://127.0.0.1:63799/0"

DATABASE_URL = os.environ.get("DATABASE_URL", EMBEDDED_DATABASE_URL)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
# A connection pool per process (psycopg_pool): under ASGI, persistent per-thread connections would pile up.
DATABASES["default"]["OPTIONS"] = {
    "pool": {"min_size": 1, "max_size": int(os.environ.get("CXM_DB_POOL_SIZE", "8")), "timeout": 20}
}
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("CXM_TEST_DATABASE", "test_cxm")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", EMBEDDED_REDIS_URL)
ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
# Elasticsearch index names start with this (one deployment, or the tests, per prefix).
ELASTICSEARCH_INDEX_PREFIX = os.environ.get("ELASTICSEARCH_INDEX_PREFIX", "cxm-test" if TESTING else "cxm")
# Connections to destinations that tenants configure (feeds, instances, webhook endpoints, IMAP and SMTP
# servers, platform APIs) must reach public addresses (apps.core.outbound), except in tests, which talk to
# fakes on 127.0.0.1, or where the operator allows it (single-tenant installs with internal feeds or mail).
CXM_ALLOW_PRIVATE_DESTINATIONS = env_bool("CXM_ALLOW_PRIVATE_DESTINATIONS", default=TESTING)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cxm-test" if TESTING else "cxm",
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 times sockets out after 5 s, which would break the channel layer's blocking reads.
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            "prefix": "cxm-test" if TESTING else "cxm",
        },
    }
}

# Celery: a task is acknowledged only after it ran, and requeued if its worker dies mid-task.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Long enough that a slow task is not redelivered while it still runs (Redis transport visibility). A worker
# takes its queues in the order it lists them, a task of the second only while the first is empty
# (cxm/queues.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "queue_order_strategy": "priority"}
# Queues by kind of work, and each task's queue: cxm/queues.py (the stack reads it before Django starts).
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in QUEUES_BY_PRIORITY]
CELERY_TASK_DEFAULT_QUEUE = CELERY_TASK_DEFAULT_EXCHANGE = CELERY_TASK_DEFAULT_ROUTING_KEY = DEFAULT_QUEUE
CELERY_TASK_ROUTES = {task: {"queue": queue} for task, queue in TASK_QUEUES.items()}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes a prefork worker's whole connection pool before and after every task unless
# this is set, so that each task opened a new PostgreSQL connection: a new server process with cold caches,
# which cost PostgreSQL about 70 µs of CPU a message in bulk imports. Each worker process keeps its pool
# instead (built after the fork), and returns connections to it between tasks as Django does between
# requests (cxm/celery.py); the fixup still recycles the pool every 1,000 tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = "UTC"
# Tests watch the real beat run its entries (tests/core/test_beat.py) with every interval scaled down:
# CXM_BEAT_SCALE=0.05 turns "every minute" into every 3 s. Ignored outside tests.
BEAT_SCALE = float(os.environ.get("CXM_BEAT_SCALE", "1")) if TESTING else 1.0


def _every(seconds: float) -> float:
    return seconds * BEAT_SCALE


CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "apps.core.tasks.heartbeat_task", "schedule": _every(30.0)},
    # A payload whose task was lost (Redis lost its queue) is sent again; processing is idempotent.
    "poll-due-channels": {
        "task": "apps.ingestion.tasks.poll_due_channels_task",
        "schedule": _every(float(os.environ.get("CXM_POLL_DUE_SECONDS", "30"))),
    },
    "send-scheduled-messages": {
        "task": "apps.replies.tasks.send_scheduled_messages_task",
        "schedule": _every(30.0),
    },
    "requeue-stuck-payloads": {
        "task": "apps.ingestion.tasks.requeue_stuck_payloads_task",
        "schedule": _every(300.0),
    },
    # Messages that still wait for the classifier (a lost task, a model that was broken and is fixed).
    "classify-waiting": {"task": "apps.classification.tasks.classify_waiting_task", "schedule": _every(60.0)},
    # Each brand's models learn from the day's corrections, at night.
    "retrain-classifiers": {
        "task": "apps.classification.tasks.retrain_due_task",
        "schedule": crontab(hour=3, minute=17),
    },
    "reprioritise-waiting": {
        "task": "apps.conversations.tasks.reprioritise_waiting_task",
        "schedule": _every(300.0),
    },
    # Snoozed conversations come back to the inbox when their time comes.
    "unsnooze-due": {"task": "apps.conversations.tasks.unsnooze_due_task", "schedule": _every(60.0)},
    # The dashboards' rollup buckets that writes marked dirty (ingestion also asks right after commit).
    "refresh-rollups": {"task": "apps.analytics.tasks.refresh_rollups_task", "schedule": _every(60.0)},
    # Alert rules are checked against each brand's latest hours; evaluation is idempotent.
    "evaluate-alert-rules": {
        "task": "apps.alerts.tasks.evaluate_alert_rules_task",
        "schedule": _every(300.0),
    },
    # Webhook deliveries whose retry task was lost are sent again.
    "webhook-deliveries-due": {
        "task": "apps.webhooks.tasks.webhook_deliveries_due_task",
        "schedule": _every(60.0),
    },
    # SLA deadlines near are warned of, those passed escalated (each once).
    "sla-check": {"task": "apps.routing.tasks.sla_check_task", "schedule": _every(60.0)},
    # Agents whose app was closed without going offline are set offline; their conversations requeued.
    "agents-gone-offline": {
        "task": "apps.routing.tasks.agents_gone_offline_task",
        "schedule": _every(300.0),
    },
    # Automation rules on conversations whose customer has waited longer than the rule says.
    "automation-no-reply": {"task": "apps.automation.tasks.no_reply_sweep_task", "schedule": _every(60.0)},
}

# A polled channel whose poll fails waits this long before the next one, twice as long after each further
# failure in a row (up to an hour; apps.ingestion.polling.channel_poll_failed).
CHANNEL_POLL_RETRY_SECONDS = float(os.environ.get("CXM_CHANNEL_POLL_RETRY_SECONDS", "30"))

# Dashboards (apps.analytics): how long after a write the workers recompute the rollup days it touched. Each
# recompute rereads the whole (brand, day), so a shorter delay means fresher dashboards and more work while
# messages stream in; tests wait for it, so it is short there.
ROLLUP_REFRESH_DELAY_SECONDS = int(os.environ.get("CXM_ROLLUP_REFRESH_SECONDS", "2" if TESTING else "30"))

# Outbound webhooks (apps.webhooks): endpoints on private addresses are refused like every other destination
# that tenants configure (CXM_ALLOW_PRIVATE_DESTINATIONS above).
WEBHOOKS_MAX_ATTEMPTS = int(os.environ.get("CXM_WEBHOOKS_MAX_ATTEMPTS", "8"))
# The first retry waits this long, each next one twice as long (capped at 30 minutes).
WEBHOOKS_RETRY_BASE_SECONDS = float(os.environ.get("CXM_WEBHOOKS_RETRY_BASE_SECONDS", "30"))

# Outgoing mail of CXM itself (alert emails; channels send through their own SMTP settings).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CXM <cxm@localhost>")
# Where CXM is reached, for links in emails and webhook payloads (alerts).
CXM_BASE_URL = os.environ.get("CXM_BASE_URL", "http://localhost:8000").rstrip("/")

# The shipped classification heads (apps/classification/defaults, see its MODEL_CARD.md); point this
# at a folder built by `manage.py build_default_classifiers` to use other defaults.
# The features new heads are trained on (build_default_classifiers, an organisation's own labels, relevance):
# an encoder spec — use-multilingual, e5-small, hf:<Hugging Face name or local path> — and extras.
CLASSIFIER_FEATURES = os.environ.get(
    "CXM_CLASSIFIER_FEATURES",
    "use-multilingual|chars|words|by-language:ar,de,en,es,fr,hi,id,it,pt,ru,zh|language-bias|hinglish",
)
# Classify each message as it arrives (the default). Off, messages wait for the beat's classify-waiting
# sweep: for a bulk backfill, or to measure ingestion alone (the ingestion benchmark does).
CLASSIFY_ON_ARRIVAL = env_bool("CXM_CLASSIFY_ON_ARRIVAL", True)
CLASSIFIER_DEFAULTS_DIR = os.environ.get(
    "CXM_CLASSIFIER_DEFAULTS_DIR", str(BASE_DIR / "apps" / "classification" / "defaults")
)

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Guessing limits (apps.core.throttle): failed sign-ins per account and per address, failed API keys per
# address, in windows of this many seconds; past a limit even the right password or key is refused until the
# window ends (429 on the API).
CXM_FAILURE_WINDOW_SECONDS = int(os.environ.get("CXM_FAILURE_WINDOW_SECONDS", "900"))
CXM_LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("CXM_LOGIN_FAILURES_PER_ACCOUNT", "10"))
CXM_LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("CXM_LOGIN_FAILURES_PER_ADDRESS", "50"))
CXM_API_AUTH_FAILURES_PER_ADDRESS = int(os.environ.get("CXM_API_AUTH_FAILURES_PER_ADDRESS", "20"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Content-Security-Policy (django-csp): scripts and styles only from CXM's own static files — no inline
# script, no eval (htmx runs with allowEval off, templates/base.html), no inline style attribute — so that
# markup slipped into a page cannot run. A page that must inline something gets a nonce
# (`request.csp_nonce`); the few pages of third-party code (API docs, the widget demo) widen it themselves.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

SESSION_COOKIE_HTTPONLY = True
# SECURE_COOKIES=1 says CXM is served over HTTPS only: cookies are sent over HTTPS only, plain HTTP is
# redirected to HTTPS, and browsers are told (HSTS) to use nothing else for a year. Behind a proxy that
# terminates TLS, set SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto (the header the proxy sets, and strips from
# clients) so that Django knows which requests came over HTTPS.
SECURE_COOKIES = env_bool("SECURE_COOKIES")
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=SECURE_COOKIES)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # load balancers' probes speak plain HTTP to the process
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if SECURE_COOKIES else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_COOKIES)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=SECURE_COOKIES)
if proxy_header := os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip():
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + proxy_header.upper().replace("-", "_"), "https")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# htmx, its ws extension and Chart.js come from npm at set-up (package.json); served from node_modules.
if (BASE_DIR / "node_modules").exists():
    STATICFILES_DIRS.append(("vendor", BASE_DIR / "node_modules"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # A token pins one membership (apps/api); first, so that a call without credentials gets a 401
        # that names the Bearer scheme.
        "apps.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The API's OpenAPI schema (/api/v1/schema/) and its docs pages; their assets come from the sidecar wheel.
SPECTACULAR_SETTINGS = {
    "TITLE": "CXM API",
    "DESCRIPTION": "Conversations, customers, replies, listening and more, for one organisation per token.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ConversationStatusEnum": "apps.conversations.models.Conversation.Status",
        "ChannelStatusEnum": "apps.connectors.models.Channel.Status",
        "AlertKindEnum": "apps.alerts.models.AlertRule.Kind",
        "AvailabilityEnum": "apps.routing.models.Availability",
        "ChannelKindEnum": "apps.customers.kinds.ChannelKind",
    },
}

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "apps.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},  # task received/succeeded lines: quiet with LOG_LEVEL=WARNING
    },
}
