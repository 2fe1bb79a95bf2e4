"""One settings module, read from the environment.

With no variables set the portal runs on SQLite with Celery tasks executed eagerly and a
local-memory cache, so a fresh clone works with one command. ``DATABASE_URL`` and ``REDIS_URL``
switch to PostgreSQL and Redis; ``DEBUG=0`` turns on the production hardening that
``check --deploy`` asks for.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from common.storage import s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Variables already in the environment win over the file. ENV_FILE lets tests and odd layouts
# point elsewhere (or at /dev/null to read nothing). No file is normal, e.g. in a container.
ENV_FILE = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.exists():
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
if DEBUG:
    SECRET_KEY = env.str(
        "SECRET_KEY",
        default="django-insecure-dev-only-key-change-me-in-production-0123456789",
    )
elif not env.str("SECRET_KEY", default=""):
    # A production site must never sign sessions with the key that is public in this repository.
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: with DEBUG=0 the portal needs a secret key of its own, e.g. "
        "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )
else:
    SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mptt",
    "axes",
    "csp",
    "django_celery_beat",
    "portal",
    "network",
    "activities.residents",
    "activities",
    "activities.resources",
    "activities.orders",
    "activities.digital",
    "activities.venues",
    "evaluation.returns",
    "evaluation.scoring",
    "evaluation.reports",
    "evaluation",
]

MIDDLEWARE = [
    # First: a NUL byte anywhere in a request is a 400 before anything reads it.
    "common.middleware.RejectMalformedRequests",
    # A database that does not answer is a 503 that says so, not a 500.
    "common.middleware.DatabaseUnavailable",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "common.middleware.ContentSecurityPolicy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed here (static files are compressed ahead by WhiteNoise, above). Django's
    # GZipMiddleware pads each answer with random bytes against BREACH (Django 4.2+), and the
    # CSRF token is masked afresh on every page. Below it, nothing reads the body it compressed.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# Django's form renderer with its commonest widget templates written in Python (common.forms).
FORM_RENDERER = "common.forms.QuickFormRenderer"

# --- Database -----------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite takes the write lock at BEGIN, so two writers queue instead of failing mid-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's, with a health check that asks the socket rather than the server.
        DATABASES["default"]["ENGINE"] = "common.postgresql"
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # A database host that does not answer costs a request this many seconds (then a 503,
    # common.middleware.DatabaseUnavailable), not a worker held until the kernel gives up.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
# The booking's hot statements are prepared once per connection (common/sql.py). Needs a database
# session per connection: turn off behind PgBouncer in transaction mode.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# A Redis that is down or hung must cost a request at most these seconds, never a worker
# (docs/DEPLOYMENT.md, "Faults"): without them a hung Redis holds every web process forever.
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)
# After a failed cache command a process leaves Redis alone this long (common.cache).
REDIS_RETRY_AFTER = env.float("REDIS_RETRY_AFTER", default=5)
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, with every failure a logged miss (common/cache.py).
            "BACKEND": "common.cache.FaultTolerantRedisCache",
            "LOCATION": REDIS_URL,
            "RETRY_AFTER": REDIS_RETRY_AFTER,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
# The parts of the layout that change only with the code, the translations, the URLs or the
# static files (the navigation for each language and page, the footer, the icon and stylesheet
# links), kept by ``{% cache … using="layout" %}`` in each process's own memory: a deploy starts
# new processes and so never serves old ones, as a shared cache would. Not kept under DEBUG,
# where a template edited shows at the next request. ``common.cache.FragmentCache`` keeps the
# rendered strings as they are (no pickling, no lock per read).
CACHES["layout"] = {
    "BACKEND": (
        "django.core.cache.backends.dummy.DummyCache" if DEBUG else "common.cache.FragmentCache"
    ),
    "LOCATION": "layout",
    "TIMEOUT": None,
    "OPTIONS": {"MAX_ENTRIES": 1000},
}
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat copies these into its database schedule on start; staff can change them in the admin.
CELERY_BEAT_SCHEDULE = {
    "escalate-overdue-orders": {
        "task": "activities.orders.services.escalate_overdue_orders",
        "schedule": env.int("ORDER_ESCALATION_INTERVAL", default=3600),
    },
    "mark-venue-no-shows": {
        "task": "activities.venues.services.mark_no_shows",
        "schedule": env.int("VENUE_NO_SHOW_INTERVAL", default=3600),
    },
    # Messages held over the quiet hours (and any whose task a broker lost) go when due.
    "send-due-messages": {
        "task": "activities.residents.services.messages_send_due",
        "schedule": env.int("SMS_SWEEP_INTERVAL", default=300),
    },
    # Expired residents' tokens and old SMS codes are deleted once a day.
    "prune-resident-tokens": {
        "task": "activities.residents.services.prune_residents",
        "schedule": crontab(minute=30, hour=3),
    },
    # Residents' names and phones of what ended RESIDENT_DATA_RETENTION_DAYS ago, and the
    # removals residents asked for whose open bookings have since ended.
    "anonymize-residents": {
        "task": "portal.privacy.anonymize_residents",
        "schedule": crontab(minute=45, hour=3),
    },
    # Answers kept for Idempotency-Key retries are deleted once their 24 hours are over.
    "prune-idempotent-requests": {
        "task": "activities.residents.services.prune_idempotent_requests",
        "schedule": crontab(minute=15),
    },
    # The day-before reminders: each run sends those not sent yet (at most one per booking).
    "booking-reminders": {
        "task": "activities.services.send_booking_reminders",
        "schedule": env.int("BOOKING_REMINDER_INTERVAL", default=3600),
    },
    # The quarter (or year) that has just ended, for every county and centre hall: one task
    # fans out one build_report per hall.
    "quarterly-reports": {
        "task": "evaluation.reports.services.enqueue_reports",
        "schedule": crontab(
            minute=0,
            hour=env.int("REPORT_HOUR", default=2),
            day_of_month=env.int("REPORT_QUARTERLY_DAY", default=1),
            month_of_year="1,4,7,10",
        ),
        "args": ("quarterly",),
    },
    "annual-reports": {
        "task": "evaluation.reports.services.enqueue_reports",
        "schedule": crontab(
            minute=0,
            hour=env.int("REPORT_HOUR", default=2),
            day_of_month=env.int("REPORT_ANNUAL_DAY", default=20),
            month_of_year=1,
        ),
        "args": ("annual",),
    },
}
CELERY_BROKER_CONNECT_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=1)
CELERY_BROKER_SOCKET_TIMEOUT = env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2)
# Redis has no real acknowledgement: a message taken by a worker that died goes back on the queue
# once it has been unacknowledged this long. Keep it above the longest report build.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    # A worker killed while sweeping holds the sweep's lock until it expires.
    "unacked_mutex_expire": env.int("CELERY_UNACKED_MUTEX_EXPIRE", default=300),
    # Queuing a task from a request (a booking's message) waits at most this long for a Redis
    # that is down or hung; the caller then falls back (docs/DEPLOYMENT.md, "Faults").
    "socket_connect_timeout": CELERY_BROKER_CONNECT_TIMEOUT,
    "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
}
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_CONNECT_TIMEOUT
# One try to send a task, not Celery's default of four with pauses: a request does not wait.
# What a worker or beat fails to send is sent again by its schedule (the message sweep, the
# reports' next run).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = CELERY_BROKER_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = CELERY_BROKER_SOCKET_TIMEOUT
# A running report whose heartbeat is older than this is taken over by the next attempt.
REPORT_STALE_SECONDS = env.int("REPORT_STALE_SECONDS", default=300)

# --- Auth ---------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The proxies (addresses or networks, comma-separated) whose X-Forwarded-For is believed: the
# deployment's own TLS proxy or load balancer. None by default: the connection's address is the
# client's (common.ratelimit.client_ip), so a made-up header changes nothing.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Five wrong passwords lock that account name *from that address* for 30 minutes: someone
# elsewhere cannot keep a colleague (or admin) locked out, and a county office behind one NAT
# address is not locked out as a whole. A superuser lifts a lock in the admin (访问尝试) or with
# `manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "common.ratelimit.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/lockout.html"
LOGIN_URL = "admin:login"

# --- Language and time --------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Fixed at start-up rather than read from DEBUG later: pytest turns DEBUG off while testing, and
# the tests should see static files as development does, without a collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Uploaded and generated files (pictures, reports, exports): the local disk (MEDIA_ROOT), or,
# with S3_BUCKET, an S3-compatible bucket that every web and worker machine shares.
S3_BUCKET = env("S3_BUCKET", default="")
STORAGES = {
    "default": (
        s3_storage(
            bucket=S3_BUCKET,
            endpoint_url=env("S3_ENDPOINT_URL", default=""),
            access_key=env("AWS_ACCESS_KEY_ID", default=""),
            secret_key=env("AWS_SECRET_ACCESS_KEY", default=""),
            region=env("S3_REGION", default=""),
            url_expires=env.int("S3_URL_EXPIRES", default=3600),
        )
        if S3_BUCKET
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Content-Security-Policy (django-csp) -------------------------------------------------------
# Scripts and styles only from our own static files: no inline <script>, no on*= handlers, no
# style attributes (templates use static/js/*.js and static/css/*.css). Pictures and media from
# the site itself (and data:/blob: for the icon and the check-in scanner's photo), or from the
# bucket that stored files redirect to (``serve_stored``); CSP_MEDIA_ORIGINS adds others (a CDN).
_bucket_origins = []
if S3_BUCKET:
    _endpoint = urlsplit(env("S3_ENDPOINT_URL", default=""))
    _bucket_origins = (
        [f"{_endpoint.scheme}://{_endpoint.netloc}"]
        if _endpoint.netloc
        else ["https://*.amazonaws.com"]
    )
_media_origins = [*_bucket_origins, *env.list("CSP_MEDIA_ORIGINS", default=[])]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *_media_origins],
        "media-src": [SELF, *_media_origins],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Activity pictures, venue photos and the digital hall's pictures, in MB; every picture is
# re-encoded on upload (common/uploads.py).
PICTURE_MAX_MB = env.int("PICTURE_MAX_MB", default=10)

# import_network (network/exchange.py): what a file may hold before it is refused unread. The
# national network is about 652,000 rows; an .xlsx is a zip, so its members' declared sizes and
# their compression ratio are checked before any XML is parsed (a zip bomb is refused at once).
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=700_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=40)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=4000)
IMPORT_MAX_UNZIPPED_MB = env.int("IMPORT_MAX_UNZIPPED_MB", default=2048)
IMPORT_MAX_ZIP_RATIO = env.int("IMPORT_MAX_ZIP_RATIO", default=100)

# A hall search (the search page, the halls API's q) counts its matches up to this many; above
# it the count says "more than" and the pages stop there. Counting every match of a name most of
# the nation shares (610,000 halls) took a second; nobody pages through more than this.
SEARCH_COUNT_CAP = env.int("SEARCH_COUNT_CAP", default=1000)
if SEARCH_COUNT_CAP < 1:
    raise ImproperlyConfigured("SEARCH_COUNT_CAP must be at least 1")
# A search of one or two characters (a form of that length, network.search.search_count_cap)
# counts only up to this many (and never past SEARCH_COUNT_CAP): such a search matches thousands
# (东村 5,300 halls, 庄 50,000), and counting to 1,000 was most of its time; 200 is ten pages of
# the search page, more than a resident pages through before typing a second character.
SEARCH_SHORT_COUNT_CAP = env.int("SEARCH_SHORT_COUNT_CAP", default=200)
if SEARCH_SHORT_COUNT_CAP < 1:
    raise ImproperlyConfigured("SEARCH_SHORT_COUNT_CAP must be at least 1")

# --- The digital culture hall -------------------------------------------------------------------
# Upload limits per kind of file, in MB (common/uploads.py checks the real type from the content).
DIGITAL_MAX_MB = {
    "video": env.int("DIGITAL_MAX_VIDEO_MB", default=500),
    "audio": env.int("DIGITAL_MAX_AUDIO_MB", default=100),
    "book": env.int("DIGITAL_MAX_BOOK_MB", default=50),
    "picture": env.int("DIGITAL_MAX_PICTURE_MB", default=PICTURE_MAX_MB),
}

# Plays counted per client address and hour; more are served but not counted.
DIGITAL_PLAYS_PER_IP = env.int("DIGITAL_PLAYS_PER_IP", default=120)

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "common.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # The project's JSON parser for every endpoint: JSON nested thousands deep is a 400 that
    # says so, never a RecursionError (a 500).
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Tokens first: an anonymous write then gets 401 with a WWW-Authenticate header, which other
    # systems expect; browsers use the admin session, whose writes must carry the CSRF token.
    # No HTTP Basic: a password sent with every request, guessable without a lockout's notice.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "network.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "文化馆总分馆制服务平台 API",
    "DESCRIPTION": (
        "文化馆总分馆网络的开放接口:文化馆、活动、预约、点单与统计。\n\n"
        "- 查询接口公开,无需登录。写接口需认证:接口令牌(供其他系统调用:工作人员在后台"
        "“接口令牌”中创建,请求头 `Authorization: Token <令牌>`),或登录后台后的会话 Cookie"
        "(写请求须带 `X-CSRFToken` 头)。不接受 HTTP Basic。"
        "工作人员只能改动其所在馆及下级馆的数据,范围之外的对象返回 404。\n"
        "- 列表分页:`count`、`next`、`previous`、`results`;`page` 从 1 开始,"
        "`page_size` 默认 50、最大 200。按名称查找(`halls/?q=`)的结果最多数到 "
        f"{SEARCH_COUNT_CAP} 个(一两个字的查找只数到 "
        f"{min(SEARCH_SHORT_COUNT_CAP, SEARCH_COUNT_CAP)} 个):"
        "更多时 `count` 为该上限,`count_capped` 为 true。\n"
        "- 输入有误时返回 400,正文为 `{字段名: [错误信息, …]}`。"
        "错误信息按 `Accept-Language` 给出:默认简体中文,`en` 为英文。\n\n"
        "Open API of the culture hall network. Reads are public; writes take a staff API token "
        "(`Authorization: Token <key>`) or the admin session (with `X-CSRFToken`). Errors are `400 {field: [messages]}` in the "
        "language of `Accept-Language` (Simplified Chinese by default, or `en`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page loads its scripts from our own static files: it works with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge fetched from the public Swagger validator: the page must work offline.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Several models have a "status" or "kind": name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "HallKindEnum": "network.models.HallKind",
        "HallStatusEnum": "network.models.HallStatus",
        "HallOperatorEnum": "network.models.Operator",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    # drf-spectacular's own hook (enum names), then the 404s and 400s every endpoint can give.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api.document_errors",
    ],
}

# --- Production hardening -----------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REFERRER_POLICY = "same-origin"
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# Production logs are JSON lines on stderr for a collector to read; a developer reads plain text.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'plain' or 'json', not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "portal.logging.JsonFormatter"},
    },
    "filters": {"mask_phones": {"()": "portal.logging.MaskPhones"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["mask_phones"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO").upper()},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
# Error reports hide residents' names and phones from the request's POST data.
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.error_reports.ResidentsExceptionReporterFilter"
# Celery's worker would otherwise replace the root handler with its own plain-text one.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Domain settings ----------------------------------------------------------------------------
# Staffing standard of the seeds: at least 3 staff per township branch, 1 post per village point.
STAFFING_MIN_BRANCH = env.int("STAFFING_MIN_BRANCH", default=3)
STAFFING_MIN_POINT = env.int("STAFFING_MIN_POINT", default=1)
# No-shows: after NO_SHOW_LIMIT in NO_SHOW_WINDOW_DAYS a phone may not book for NO_SHOW_BAN_DAYS.
NO_SHOW_LIMIT = env.int("NO_SHOW_LIMIT", default=3)
NO_SHOW_WINDOW_DAYS = env.int("NO_SHOW_WINDOW_DAYS", default=365)
NO_SHOW_BAN_DAYS = env.int("NO_SHOW_BAN_DAYS", default=30)
# Venues: a resident reserves at most this many weeks ahead; a recurring reservation (staff, for a
# team) spans at most VENUE_SERIES_WEEKS weeks. The no-show rule above applies to venues too.
VENUE_BOOKING_WEEKS_AHEAD = env.int("VENUE_BOOKING_WEEKS_AHEAD", default=4)
VENUE_SERIES_WEEKS = env.int("VENUE_SERIES_WEEKS", default=26)
# Booking and ordering limits, per client address and per phone, in a window of seconds
# (0 turns a limit off, e.g. for a load benchmark from one address).
BOOKING_RATE_LIMIT_IP = env.int("BOOKING_RATE_LIMIT_IP", default=30)
BOOKING_RATE_LIMIT_PHONE = env.int("BOOKING_RATE_LIMIT_PHONE", default=6)
BOOKING_RATE_WINDOW = env.int("BOOKING_RATE_WINDOW", default=600)
# The satisfaction survey: submissions per address and per phone in a window of seconds.
SURVEY_RATE_LIMIT_IP = env.int("SURVEY_RATE_LIMIT_IP", default=20)
SURVEY_RATE_LIMIT_PHONE = env.int("SURVEY_RATE_LIMIT_PHONE", default=5)
SURVEY_RATE_WINDOW = env.int("SURVEY_RATE_WINDOW", default=600)
# The public activity list (API) is rendered at most this often per URL; seat counts on it may
# be this many seconds old. Booking itself always reads the database.
ACTIVITY_LIST_CACHE_SECONDS = env.int("ACTIVITY_LIST_CACHE_SECONDS", default=3)
# The public statistics (API ``statistics/``) are kept at most this many seconds; any change to
# a return (figures, status, deadline) renews them at once. 0: computed per request.
STATISTICS_CACHE_SECONDS = env.int("STATISTICS_CACHE_SECONDS", default=300)
# The public home page, activity list and activity page are kept, rendered, this many seconds
# for visitors without a session or a verified phone (common/pagecache.py); seats left on them
# may be this old. 0 renders every request.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=3)
# An order nobody answers within this many working days goes up to the parent hall.
ORDER_RESPONSE_WORKING_DAYS = env.int("ORDER_RESPONSE_WORKING_DAYS", default=5)
# The State Council's public holidays and the weekend days worked instead (调休), one row a day;
# add the next year's rows when they are published (usually in November). common/workdays.py.
HOLIDAY_CALENDAR = Path(
    env.str("HOLIDAY_CALENDAR", default=str(BASE_DIR / "fixtures" / "holidays.csv"))
)
# A report sent back by the parent hall stays open this long for corrections.
REPORT_RETURN_GRACE = timedelta(days=env.int("REPORT_RETURN_GRACE_DAYS", default=7))

# --- Residents' personal information (个人信息保护法; common/privacy.py, portal/privacy.py) ------
# Names and phones of bookings, orders, reservations, survey answers and messages are anonymised
# this many days after the thing they were for ended (nightly, and `anonymize_residents`).
RESIDENT_DATA_RETENTION_DAYS = env.int("RESIDENT_DATA_RETENTION_DAYS", default=365)
if RESIDENT_DATA_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("RESIDENT_DATA_RETENTION_DAYS must be at least 1")
# The privacy notice (隐私政策) in force; a form's agreement records it. Change it with the text.
PRIVACY_NOTICE_VERSION = env.str("PRIVACY_NOTICE_VERSION", default="2026-12")

# --- Residents: verified phones and messages (activities/residents/) ----------------------------
# required: booking, cancelling, ordering, rating and the survey need a phone verified by SMS
# code; off: any well-formed number is taken as typed (sites that do not want it, load tests).
RESIDENT_VERIFICATION = env.str("RESIDENT_VERIFICATION", default="required")
if RESIDENT_VERIFICATION not in ("required", "off"):
    raise ImproperlyConfigured(
        f"RESIDENT_VERIFICATION must be 'required' or 'off', not {RESIDENT_VERIFICATION!r}"
    )
# How long a verified browser (cookie) or app (token) stays verified.
RESIDENT_VERIFIED_DAYS = env.int("RESIDENT_VERIFIED_DAYS", default=30)
PHONE_CODE_TTL_SECONDS = env.int("PHONE_CODE_TTL_SECONDS", default=300)
PHONE_CODE_MAX_TRIES = env.int("PHONE_CODE_MAX_TRIES", default=5)
PHONE_CODE_RESEND_SECONDS = env.int("PHONE_CODE_RESEND_SECONDS", default=60)
# Code requests per client address and per phone, and code tries per address, in a window.
PHONE_CODE_RATE_LIMIT_IP = env.int("PHONE_CODE_RATE_LIMIT_IP", default=20)
PHONE_CODE_RATE_LIMIT_PHONE = env.int("PHONE_CODE_RATE_LIMIT_PHONE", default=5)
PHONE_CHECK_RATE_LIMIT_IP = env.int("PHONE_CHECK_RATE_LIMIT_IP", default=30)
PHONE_CODE_RATE_WINDOW = env.int("PHONE_CODE_RATE_WINDOW", default=3600)
# console (the log; in DEBUG the verify page shows the code) | file | aliyun | tencent
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
if SMS_BACKEND not in ("console", "file", "aliyun", "tencent"):
    raise ImproperlyConfigured(
        f"SMS_BACKEND must be console, file, aliyun or tencent, not {SMS_BACKEND!r}"
    )
# The file backend appends one JSON line per message here.
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / "sms.jsonl"))
# The signature (签名) the provider approved, shown as 【…】 in front of every message.
SMS_SIGNATURE = env.str("SMS_SIGNATURE", default="文化馆")
# Messages the resident did not just ask for wait out these hours (local time); empty: none.
SMS_QUIET_HOURS = env.str("SMS_QUIET_HOURS", default="22:00-08:00")
# Tries per message, and the first retry's delay in seconds (doubling, at most 10 minutes).
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)
SMS_RETRY_BACKOFF = env.int("SMS_RETRY_BACKOFF", default=30)
# A queued message older than this without a send is picked up by the sweep.
SMS_SWEEP_AFTER_SECONDS = env.int("SMS_SWEEP_AFTER_SECONDS", default=300)
# The provider's template id for each of our templates, e.g.
# SMS_TEMPLATE_IDS=verify_code=SMS_1234,booking_confirmed=SMS_5678 (activities/residents/sms.py).
SMS_TEMPLATE_IDS = env.dict("SMS_TEMPLATE_IDS", default={})
# The providers (activities/residents/providers.py); their endpoints may carry a scheme
# (http://… for a local stand-in).
SMS_TIMEOUT_SECONDS = env.int("SMS_TIMEOUT_SECONDS", default=10)
ALIYUN_SMS_ACCESS_KEY_ID = env.str("ALIYUN_SMS_ACCESS_KEY_ID", default="")
ALIYUN_SMS_ACCESS_KEY_SECRET = env.str("ALIYUN_SMS_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_ENDPOINT = env.str("ALIYUN_SMS_ENDPOINT", default="dysmsapi.aliyuncs.com")
TENCENT_SMS_SECRET_ID = env.str("TENCENT_SMS_SECRET_ID", default="")
TENCENT_SMS_SECRET_KEY = env.str("TENCENT_SMS_SECRET_KEY", default="")
TENCENT_SMS_APP_ID = env.str("TENCENT_SMS_APP_ID", default="")
TENCENT_SMS_REGION = env.str("TENCENT_SMS_REGION", default="ap-guangzhou")
TENCENT_SMS_ENDPOINT = env.str("TENCENT_SMS_ENDPOINT", default="sms.tencentcloudapi.com")
if SMS_BACKEND == "aliyun" and not (ALIYUN_SMS_ACCESS_KEY_ID and ALIYUN_SMS_ACCESS_KEY_SECRET):
    raise ImproperlyConfigured(
        "SMS_BACKEND=aliyun needs ALIYUN_SMS_ACCESS_KEY_ID and ALIYUN_SMS_ACCESS_KEY_SECRET"
    )
if SMS_BACKEND == "tencent" and not (
    TENCENT_SMS_SECRET_ID and TENCENT_SMS_SECRET_KEY and TENCENT_SMS_APP_ID
):
    raise ImproperlyConfigured(
        "SMS_BACKEND=tencent needs TENCENT_SMS_SECRET_ID, TENCENT_SMS_SECRET_KEY and "
        "TENCENT_SMS_APP_ID"
    )
