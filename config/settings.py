"""Signoff settings: one module, read from the environment."""

import ipaddress
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SIGNOFF_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def secret_key() -> str:
    """SECRET_KEY from the environment; refused without it unless this is a local run.

    DEBUG, `manage.py demo` and the test run use a random key kept in var/ (the
    demo hands it to its web server and worker).
    """
    key = env_str("SECRET_KEY")
    if key:
        return key
    if DEBUG or sys.argv[1:2] == ["demo"] or "pytest" in sys.modules:
        return local_secret_key(VAR_DIR / "secret_key")
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set SECRET_KEY to a long random value, e.g. "
        "the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))' "
        "(or DEBUG=true on a development machine)."
    )


def local_secret_key(path: Path) -> str:
    """A random key made once under var/, readable by its owner only.

    Written aside and linked into place, so processes starting together agree.
    """
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def proxy_ssl_header() -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER as "HTTP_X_FORWARDED_PROTO,https"; unset: None."""
    value = env_str("SECURE_PROXY_SSL_HEADER")
    if not value:
        return None
    header, _, expected = value.partition(",")
    if not header.startswith("HTTP_") or not expected:
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO,https"
        )
    return header.strip(), expected.strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Production behind HTTPS (README "Production"); off by default so the demo and a
# development machine work over plain HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(env_float("SECURE_HSTS_SECONDS", 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
# Only behind a proxy that sets (and strips from clients) this header.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",  # tokens: approvals.ApiToken (hashed), not DRF's authtoken
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "axes",
    # Before django_q, so flows' `qcluster` (which stops on SIGTERM) is the one run.
    "flows",
    "django_q",
    "approvals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the profile's zone wins over the browser's.
    "approvals.zones.ViewerTimeZone",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "approvals.middleware.RefuseUnstorableText",
    # Last, as django-axes asks: it turns a lock-out into its response.
    "axes.middleware.AxesMiddleware",
]

# No inline script or style anywhere: the pages use none, and /api/docs/ loads
# Swagger UI's init script from its own URL (SpectacularSwaggerSplitView).
# Bootstrap draws checkboxes and select arrows with data: SVGs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# django-axes: after SIGNOFF_LOGIN_FAILURE_LIMIT wrong passwords for one user from
# one address, that pair is locked out for the cool-off (the sign-in page says so).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env_float("SIGNOFF_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=env_float("SIGNOFF_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "approvals.lockout.locked_out"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "approvals.context_processors.inbox_count",
                "approvals.context_processors.demo",
            ],
        },
    },
]


def database_config() -> dict:
    """DATABASE_URL, or a local SQLite file tuned so web and worker write at once."""
    url = env_str("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if config["ENGINE"].endswith("sqlite3"):
            config.update(sqlite_options())
        elif env_bool("SIGNOFF_DB_PREPARED", True):
            config.setdefault("OPTIONS", {}).update(postgresql_prepared())
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "signoff.sqlite3",
        **sqlite_options(),
    }


def postgresql_prepared() -> dict:
    """Server-side parameters, and a statement sent a second time on a connection
    is prepared: PostgreSQL plans the engine's few statement shapes once per
    connection instead of on every request (half a resume's database time).
    Off (SIGNOFF_DB_PREPARED=false) behind a pooler that cannot keep prepared
    statements, such as PgBouncer before 1.21 in transaction mode."""
    return {"server_side_binding": True, "prepare_threshold": 2}


def sqlite_options() -> dict:
    return {
        # The test database is a file, not :memory:, whatever DATABASE_URL names,
        # so threads and a qcluster subprocess in the tests see the data; one per
        # test process, so parallel runs never share (or inherit) a WAL.
        "TEST": {"NAME": VAR_DIR / f"test-{os.getpid()}.sqlite3"},
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# `collectstatic` gathers them here; WhiteNoise serves them compressed, under
# content-hashed names cached for a year.
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.staticfiles.StaticFiles"},
}
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "approvals:inbox"
LOGOUT_REDIRECT_URL = "login"

# Notifications' mail (approvals/notifications.py). The password is only read here
# and handed to Django's SMTP backend: never logged, never shown.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("EMAIL_PORT", "25") or 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 30.0)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "signoff@localhost")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
# A Slack incoming webhook that every pause posts to unless its `notify` says not.
SIGNOFF_NOTIFY_SLACK_URL = env_str("SIGNOFF_NOTIFY_SLACK_URL")
# One-click links (approvals/links.py): they expire at the pause's deadline or
# after this many seconds, whichever is first; by default they also need a sign-in.
SIGNOFF_LINK_MAX_AGE = env_float("SIGNOFF_LINK_MAX_AGE", 7 * 86400.0)
SIGNOFF_LINK_REQUIRES_LOGIN = env_bool("SIGNOFF_LINK_REQUIRES_LOGIN", True)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "approvals.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Signoff API",
    "DESCRIPTION": "Start flows, answer suspended executions, poll their status.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}


def q_cluster_config() -> dict:
    """django-q2: ORM broker by default, Redis when SIGNOFF_REDIS_URL is set."""
    config = {
        "name": env_str("SIGNOFF_QUEUE_NAME", "signoff"),
        "workers": int(env_float("SIGNOFF_WORKERS", 2)),
        # The engine's own leases recover lost steps; timeout stays below retry so
        # django-q2 never starts a long step twice on its own.
        "timeout": 300,
        "retry": 360,
        "max_attempts": 1,
        "ack_failures": True,
        # Successful results are not kept: the engine's rows are the record.
        "save_limit": -1,
        # ORM broker: how long an idle pusher sleeps; a floor under resume latency.
        "poll": env_float("SIGNOFF_QUEUE_POLL", 0.02),
        "catch_up": False,
        # django-q2 replaces a worker process after this many tasks (default 500):
        # a new process, its Django set-up and connections; each wake-up is a task.
        "recycle": int(env_float("SIGNOFF_WORKER_RECYCLE", 5000)),
        "sync": env_bool("SIGNOFF_SYNC_WORKER", False),
    }
    redis_url = env_str("SIGNOFF_REDIS_URL")
    if redis_url:
        config["redis"] = redis_url
    else:
        config["orm"] = "default"
    return config


Q_CLUSTER = q_cluster_config()

# Engine knobs (see README "Workers").
SIGNOFF_SWEEP_INTERVAL = env_float("SIGNOFF_SWEEP_INTERVAL", 1.0)
# A running step's lease, renewed every third of it by the step's heartbeat; also
# how long a queued wake-up may go unanswered before the sweeper sends another.
SIGNOFF_STEP_LEASE_SECONDS = env_float("SIGNOFF_STEP_LEASE_SECONDS", 5.0)
# A step whose worker was lost this many times fails instead of being retaken.
SIGNOFF_MAX_ATTEMPTS = int(env_float("SIGNOFF_MAX_ATTEMPTS", 3))
SIGNOFF_SWEEPER_IN_WORKERS = env_bool("SIGNOFF_SWEEPER_IN_WORKERS", True)
# One sweeper per cluster holds this lease, renewed on every pass; the standbys
# take over when it lapses.
SIGNOFF_SWEEPER_LEASE_SECONDS = env_float("SIGNOFF_SWEEPER_LEASE_SECONDS", 3.0)
# After SIGTERM, how long a qcluster lets its workers finish before killing them.
SIGNOFF_WORKER_STOP_SECONDS = env_float("SIGNOFF_WORKER_STOP_SECONDS", 5.0)
# Cap on any one rendered template (and on the values it builds on the way).
SIGNOFF_MAX_RENDER_BYTES = int(env_float("SIGNOFF_MAX_RENDER_BYTES", 1_000_000))
# Flow YAML larger than this is refused by loadflows and every other loader.
SIGNOFF_MAX_FLOW_BYTES = int(env_float("SIGNOFF_MAX_FLOW_BYTES", 1_000_000))
SIGNOFF_SHELL_TASKS_ENABLED = env_bool("SIGNOFF_SHELL_TASKS_ENABLED", False)
SIGNOFF_SHELL_TIMEOUT_SECONDS = env_float("SIGNOFF_SHELL_TIMEOUT_SECONDS", 60.0)
SIGNOFF_HTTP_TIMEOUT_SECONDS = env_float("SIGNOFF_HTTP_TIMEOUT_SECONDS", 10.0)
# GET /api/executions/{id}/events: each stream lasts this long at most (keep it
# well under gunicorn's 30 s worker timeout: a sync worker serves one stream at a
# time), checks for new events this often, and tells EventSource to reconnect
# after this many seconds (with Last-Event-ID, so nothing is missed).
SIGNOFF_EVENTS_WINDOW_SECONDS = env_float("SIGNOFF_EVENTS_WINDOW_SECONDS", 5.0)
SIGNOFF_EVENTS_POLL_SECONDS = env_float("SIGNOFF_EVENTS_POLL_SECONDS", 0.5)
SIGNOFF_EVENTS_RETRY_SECONDS = env_float("SIGNOFF_EVENTS_RETRY_SECONDS", 3.0)
# Prefix rewrites for outbound HTTP ("https://reqres.in=http://127.0.0.1:8999,..."):
# lets the Kestra examples run unchanged against a local server.
SIGNOFF_OUTBOUND_REWRITES = dict(
    pair.split("=", 1)
    for pair in env_str("SIGNOFF_OUTBOUND_REWRITES").split(",")
    if "=" in pair
)


def outbound_allow_list(value: str) -> list[str]:
    """SIGNOFF_OUTBOUND_ALLOW: host names and CIDR ranges, comma-separated."""
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    for entry in entries:
        if "/" in entry or ":" in entry:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ImproperlyConfigured(f"SIGNOFF_OUTBOUND_ALLOW: {exc}") from None
    return entries


# Where HTTP and webhook tasks may go besides public addresses (flows/outbound.py).
SIGNOFF_OUTBOUND_ALLOW = outbound_allow_list(env_str("SIGNOFF_OUTBOUND_ALLOW"))
SIGNOFF_BASE_URL = env_str("SIGNOFF_BASE_URL", "http://127.0.0.1:8000")
# Kestra UI addresses that a Slack task's text links to; sent pointing at
# SIGNOFF_BASE_URL instead, where /ui/executions/... opens the execution.
SIGNOFF_KESTRA_UI_URLS = env_list(
    "SIGNOFF_KESTRA_UI_URLS", "http://localhost:8080,http://localhost:28080"
)
# Set by `manage.py demo` for its web server: the sign-in page and the inbox say
# what to try, as whom.
SIGNOFF_DEMO = env_bool("SIGNOFF_DEMO")
# How often a page other than the inbox asks whether the nav badge changed.
SIGNOFF_BADGE_POLL_SECONDS = env_float("SIGNOFF_BADGE_POLL_SECONDS", 30.0)
# Approval-request callbacks (flows/callbacks.py): retried with exponential backoff
# from the first delay, capped, for at most the retry window after the first send.
SIGNOFF_CALLBACK_RETRY_SECONDS = env_float("SIGNOFF_CALLBACK_RETRY_SECONDS", 86400.0)
SIGNOFF_CALLBACK_FIRST_DELAY = env_float("SIGNOFF_CALLBACK_FIRST_DELAY", 10.0)
SIGNOFF_CALLBACK_MAX_DELAY = env_float("SIGNOFF_CALLBACK_MAX_DELAY", 3600.0)
# Fernet key(s) for SECRET inputs and answers at rest; comma-separated to rotate
# (the first encrypts, all decrypt). See flows/secrets.py.
SIGNOFF_ENCRYPTION_KEY = env_str("SIGNOFF_ENCRYPTION_KEY")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        "django_q": {
            "handlers": ["console"],
            "level": env_str("Q_LOG_LEVEL", "WARNING"),
            "propagate": False,
        },
    },
}
