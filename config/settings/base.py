"""Settings shared by every environment; values that differ come from the environment.

With nothing set this is the embedded default: SQLite file, Celery eager, locmem cache,
zh-hans, Asia/Shanghai. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

import datetime
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="relief-market-insecure-dev-key-change-me-in-production")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "core",
    "households",
    "lovepoints",
    "logistics",
    "marketplace",
    "marketplace.settlement",
    "marketplace.accounts",
    "marketplace.canteens",
    "cms",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
]

# Object permissions come from the access policy (core/access.py, ``rules``); the model
# permissions of each role (its Django group) from Django's ModelBackend.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "core.middleware.InvalidInputMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into core.lockouts' answer.
    "axes.middleware.AxesMiddleware",
]

# Sessions are read from the cache (written through to the database): a signed-in page served
# from the page cache then runs no SQL at all (cms/cache.py).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for the write lock (IMMEDIATE) and wait up to 30 s instead of failing with
    # "database is locked"; WAL lets readers go on while one writer writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, each connection's health check at most every few seconds instead of
        # once a request (core/db_backends/postgresql/base.py)
        DATABASES["default"]["ENGINE"] = "core.db_backends.postgresql"
RELIEF_DB_HEALTH_CHECK_SECONDS = env.float("RELIEF_DB_HEALTH_CHECK_SECONDS", default=5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "core.cache_redis.RedisCache", "LOCATION": REDIS_URL}}  # one client per pool
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "relief"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task gets the task again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE: dict = {}  # apps add their periodic tasks in their AppConfig.ready()

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "core.auth_backends.LockoutBackend",  # django-axes: refuses a locked-out username first
    "rules.permissions.ObjectPermissionBackend",  # object permissions of the access policy
    "core.auth_backends.ModelBackend",  # Django's, reading the session's user with its employee record
]
# What the session's user is read with on every signed-in request (core.auth_backends).
AUTH_USER_SELECT_RELATED = ("employee__employer",)
# Sign-in protection (django-axes): 10 failed sign-ins for one username, from any address, lock
# that username for 15 minutes (an attacker spreading guesses over many addresses still hits the
# limit); the county office lifts a lock in the admin (core/lockouts.py).
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# A lock lasts 15 minutes from the 10th failure: attempts during it are refused without
# prolonging it, so the time the message names holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "core.lockouts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
# axes warns that a lock-out without the address can be dodged by changing User-Agent or
# cookies; that holds for lock-outs by address + browser, not by username, which none of them
# changes. Locking by address as well would let one office NAT lock everyone in it out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# How many reverse proxies stand in front and append to X-Forwarded-For (production: 1). The
# client's address (access log, sign-in records) is read that many places from its right.
RELIEF_TRUSTED_PROXIES = env.int("RELIEF_TRUSTED_PROXIES", default=0)
# Storefront stock badges may lag a sale by at most this many seconds, so that pages stay in the
# page cache while stock moves with every checkout (cms/cache.py); 0 drops every page at each sale.
STOREFRONT_STOCK_BADGE_SECONDS = env.int("STOREFRONT_STOCK_BADGE_SECONDS", default=10)
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- Language, time -------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Catalogues: each app's own <app>/locale, plus these for code that spans modules.
LOCALE_PATHS = [BASE_DIR / "locale" / "core", BASE_DIR / "locale" / "intake", BASE_DIR / "locale" / "payments"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Uploads holding personal data (spreadsheet imports): outside MEDIA_ROOT, so no URL serves them.
PRIVATE_MEDIA_ROOT = env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private"))
PRIVATE_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": PRIVATE_MEDIA_ROOT}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": PRIVATE_STORAGE,
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
# Without a collectstatic run (the embedded default), whitenoise serves from the app folders.
WHITENOISE_USE_FINDERS = True

# --- Wagtail --------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "镇安县扶贫超市 Relief Market"
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", default="http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "xlsx"]

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Relief Market API",
    "DESCRIPTION": "镇安县消费扶贫: intake, trace, marketplace, settlement.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "PREPROCESSING_HOOKS": ["core.api.only_project_endpoints"],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

# --- Stripe ---------------------------------------------------------------------------------
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")  # tests point this at the loopback stand-in

# --- WeChat Pay (API v3, direct merchant) ----------------------------------------------------
# Configured when WECHATPAY_MCHID and WECHATPAY_PRIVATE_KEY are set. The private key (PEM) is the
# merchant API certificate's; platform certificates are downloaded (and decrypted with the API v3
# key) by the wechatpayv3 client and verify every answer and notification.
WECHATPAY_MCHID = env("WECHATPAY_MCHID", default="")
WECHATPAY_APPID = env("WECHATPAY_APPID", default="")
WECHATPAY_PRIVATE_KEY = env("WECHATPAY_PRIVATE_KEY", default="")
WECHATPAY_CERT_SERIAL_NO = env("WECHATPAY_CERT_SERIAL_NO", default="")
WECHATPAY_APIV3_KEY = env("WECHATPAY_APIV3_KEY", default="")
WECHATPAY_CERT_DIR = env("WECHATPAY_CERT_DIR", default="")
WECHATPAY_API_BASE = env("WECHATPAY_API_BASE", default="https://api.mch.weixin.qq.com")  # tests: the loopback stand-in
WECHATPAY_NOTIFY_URL = env("WECHATPAY_NOTIFY_URL", default="")  # default: the site's /payments/wechat/notify/
WECHATPAY_NOTIFY_TOLERANCE = env.int("WECHATPAY_NOTIFY_TOLERANCE", default=300)  # seconds; older signatures are stale

# --- Alipay (RSA2) ---------------------------------------------------------------------------
ALIPAY_APP_ID = env("ALIPAY_APP_ID", default="")
ALIPAY_APP_PRIVATE_KEY = env("ALIPAY_APP_PRIVATE_KEY", default="")
ALIPAY_PUBLIC_KEY = env("ALIPAY_PUBLIC_KEY", default="")
ALIPAY_GATEWAY = env("ALIPAY_GATEWAY", default="https://openapi.alipay.com/gateway.do")  # tests: the loopback stand-in
ALIPAY_NOTIFY_URL = env("ALIPAY_NOTIFY_URL", default="")  # default: the site's /payments/alipay/notify/
ALIPAY_NOTIFY_TOLERANCE = env.int("ALIPAY_NOTIFY_TOLERANCE", default=25 * 3600)  # Alipay retries for 25 hours

# --- Domain settings ------------------------------------------------------------------------
RELIEF_MAX_INTAKE_KG = env.float("RELIEF_MAX_INTAKE_KG", default=500.0)
# Order lines per settlement chunk (one transaction): ~100,000 settlement lines and income entries
# at four households a batch, a few seconds; smaller chunks pay the per-chunk statements more often.
RELIEF_SETTLEMENT_CHUNK_LINES = env.int("RELIEF_SETTLEMENT_CHUNK_LINES", default=25_000)
RELIEF_WATCH_DECLINE_SHARE = env("RELIEF_WATCH_DECLINE_SHARE", default="0.30")
RELIEF_WATCH_PERIOD_MONTHS = env.int("RELIEF_WATCH_PERIOD_MONTHS", default=3)
# An admin spreadsheet import of more rows than this runs as a Celery task with a progress page.
RELIEF_IMPORT_BACKGROUND_ROWS = env.int("RELIEF_IMPORT_BACKGROUND_ROWS", default=2000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

# --- Text messages (core/sms.py) ------------------------------------------------------------
SMS_BACKEND = env("SMS_BACKEND", default="core.sms.OutboxBackend")
SMS_HTTP_URL = env("SMS_HTTP_URL", default="")
SMS_API_KEY = env("SMS_API_KEY", default="")
SMS_SIGN = env("SMS_SIGN", default="镇安扶贫超市")
SMS_TIMEOUT = env.float("SMS_TIMEOUT", default=5.0)
