"""Settings for the partnership portal, read from the environment.

With no variable set, the portal runs on its embedded default: a SQLite file in the project
folder, Celery tasks run in-process, e-mail printed to the console, and a development-only secret
key. Production sets ``DEBUG=0``, ``SECRET_KEY``, ``DATABASE_URL``, ``REDIS_URL`` and ``EMAIL_URL``.
"""

import warnings
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the portal refuses to start without a secret key: "
            "set the SECRET_KEY environment variable to a long random string."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure-")):
    # A short or placeholder key signs sessions and password-reset links that can be forged; refuse it outright.
    # (Django's `check --deploy` also warns, security.W009, about a key with fewer than 5 distinct characters.)
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for DEBUG off: it must be at least 50 characters and not a 'django-insecure-' key. "
        'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "csp",
    "axes",
    "auditlog",
    # Second factors (core/mfa/): django-otp with its TOTP and static-token (recovery code) plug-ins, and security keys
    # and passkeys (WebAuthn) through django-otp-webauthn.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "core",
    "countries",
    "infrastructure",
    "tracks",
    "engagements",
    "announcements",
    "partnerships",
    "portal",
    "dashboards",
    "imports",
    "notifications",
    "accounts",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # gzip for pages, API answers and feeds (GET only); a strong ETag stays strong, as "<tag>-gzip" (core/compression.py).
    # Before every middleware that reads or writes the body, so it compresses what they leave.
    "core.compression.CompressionMiddleware",
    "core.csp_middleware.ContentSecurityPolicyMiddleware",
    # NUL bytes in a page's address and form bodies that are not UTF-8: refused before any view (core/middleware.py).
    "core.middleware.MalformedInputMiddleware",
    # A change refused because the cache could not drop what it makes stale (core/cache.py): 503, "try again".
    "core.middleware.CacheUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether a second factor was verified in this session (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # Each signed-in session's "last seen", for the account page's list of sessions (accounts/sessions.py).
    "accounts.sessions.SessionActivityMiddleware",
    # The audit log's actor: read when an entry is written, so an API call carries its token's user (core/audit.py).
    "core.audit.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A session signed in with a password whose user has a second factor (or must enrol one) reaches nothing but
    # the second-factor pages and sign-out until it is verified (core/mfa/policies.py holds the rule).
    "core.mfa.middleware.SecondFactorMiddleware",
    # /countries/GB/ redirects to /countries/gb/ (core/country_codes.py: one rule for country codes).
    "core.country_codes.CountryPathCaseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused by the lockout into the "sign-in paused" page (see Sign-in protection below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

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
                "core.context_processors.portal",
                "imports.context_processors.imports",
                "notifications.context_processors.inbox",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# Database: DATABASE_URL (postgres://user:pass@host:5432/name), else a SQLite file in the project.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a lock rather than fail at once when the dev server and a task write together. A transaction takes the
    # write lock when it begins (IMMEDIATE): one that read first and then wrote while another wrote would be refused
    # at once ("database is locked"), whatever the timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env.bool("POSTGRES_JIT", default=False):
    # PostgreSQL compiles a query whose estimated cost passes jit_above_cost: the pipeline as of a past day at
    # 1,000,000 engagements spent 239 ms compiling a query that ran in 15 ms (docs/benchmarks.md). The portal's
    # queries are short; JIT is off on its connections unless POSTGRES_JIT=1.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords in a row for one account from one
# address, that account is refused from that address for AXES_COOLOFF_MINUTES (the page says so, status 429);
# a successful sign-in starts the count again. Attempts are rows in the database (listed in the admin). The
# address is the one DRF's throttles use (NUM_PROXIES aware, see core/security.py); the API's tokens are covered
# by the same limits per address (core/api/throttling.py).
AUTHENTICATION_BACKENDS = [
    "core.security.LockoutBackend",
    "core.security.LocalPasswordBackend",
    # Single sign-on (portal/identity.py): only answers the provider's callback, and only when SSO is configured.
    "portal.identity.PortalOIDCBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.security.client_address"
AXES_LOCKOUT_CALLABLE = "core.security.lockout_response"
AXES_USERNAME_CALLABLE = "core.security.lockout_username"
# A wrong second-factor code counts as a failed sign-in (core/security.py): axes keeps what was posted, but not it.
AXES_SENSITIVE_PARAMETERS = ["code"]
# Second factors (docs/configuration.md#second-factors; the rule is core/mfa/policies.py). Roles that must enrol one:
# "programme_staff", "liaison", "viewer" (the groups) and "administrator" (superusers). Off by default with DEBUG on,
# so the demo's users and the test suite sign in with a password alone; set MFA_REQUIRED_ROLES to turn it on there.
MFA_REQUIRED_ROLES = env.list("MFA_REQUIRED_ROLES", default=[] if DEBUG else ["programme_staff", "administrator"])
# Creating an API token or a calendar feed asks for a second factor verified within this many minutes.
MFA_RECENT_MINUTES = env.int("MFA_RECENT_MINUTES", default=15)
# How many recovery codes a set holds (each works once).
MFA_RECOVERY_CODE_COUNT = 10
OTP_TOTP_ISSUER = env.str("MFA_ISSUER", default="Partnership portal")
# Wrong codes count towards the sign-in lockout (axes, above); django-otp's own growing delays would refuse a right
# code typed soon after a wrong one, so they are off.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# Single sign-on through an OpenID Connect provider (core/identity.py, docs/configuration.md). Off unless a client id
# and an issuer (or explicit endpoints) are set.
SSO_PROVIDER_NAME = env.str("SSO_PROVIDER_NAME", default="")
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_END_SESSION_ENDPOINT = env.str("OIDC_OP_END_SESSION_ENDPOINT", default="")
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
# A PEM public key instead of the JWKS endpoint (rarely needed).
OIDC_RP_IDP_SIGN_KEY = env.str("OIDC_RP_IDP_SIGN_KEY", default="")
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)
OIDC_USE_PKCE = env.bool("OIDC_USE_PKCE", default=True)
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the provider's end-session endpoint at sign-out
OIDC_AUTHENTICATE_CLASS = "portal.identity.SignInStartView"
OIDC_CALLBACK_CLASS = "portal.identity.SignInCallbackView"
# The provider's group names mapped to the portal's roles (liaison, programme_staff, viewer), as JSON; a user none of
# whose groups maps to a role is refused. The claim holding the groups, and the one holding a liaison's countries.
SSO_ROLE_MAPPING = env.json("SSO_ROLE_MAPPING", default={})
SSO_GROUPS_CLAIM = env.str("SSO_GROUPS_CLAIM", default="groups")
SSO_COUNTRIES_CLAIM = env.str("SSO_COUNTRIES_CLAIM", default="countries")
# Local passwords: off for everyone but the break-glass administrators named here (user names).
SSO_LOCAL_PASSWORDS = env.bool("SSO_LOCAL_PASSWORDS", default=True)
SSO_BREAK_GLASS_USERS = env.list("SSO_BREAK_GLASS_USERS", default=[])
# Sessions: a new session key at every sign-in (Django's login()), gone after SESSION_COOKIE_AGE seconds.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)
# Invitations (accounts/): how many days an e-mailed one-time link works.
INVITATION_EXPIRY_DAYS = env.int("INVITATION_EXPIRY_DAYS", default=7)

# HTTPS and browser protections: on whenever DEBUG is off, so `manage.py check --deploy` passes; each can be
# switched off by an environment variable of the same name (bench/run.py does, for its plain-HTTP loopback run).
# With DEBUG on (development) they stay off, so http://127.0.0.1:8000 works.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a load balancer's health probe may speak plain HTTP
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips the client's own).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("SECURE_PROXY_SSL_HEADER", default=not DEBUG) else None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp) on every response: scripts and styles only from the portal's own files,
# no inline script or style, no eval; charts are server-drawn SVG without style attributes. The nonce is only
# added to a page that asks for one: the API docs (Swagger UI, ReDoc), whose templates in templates/drf_spectacular/
# mark their one inline script and style with it. ReDoc's page alone also allows inline styles and blob: workers
# (its bundle needs them): see core.csp_middleware.ContentSecurityPolicyMiddleware.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Internationalisation: English and French; everything stored in UTC.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
# One form of date, time and number per language on every page (config/formats/<language>/formats.py).
# Selects written in Python, the other widgets through Django's templates (core/form_renderer.py).
FORM_RENDERER = "core.form_renderer.PortalFormRenderer"
FORMAT_MODULE_PATH = ["config.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# In development WhiteNoise serves straight from static/ (no collectstatic needed), so an absent
# STATIC_ROOT is expected and its warning is noise.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# E-mail: EMAIL_URL (smtp://user:pass@host:587, smtp+tls://...), else printed to the console.
# EMAIL_FILE_PATH=/some/dir writes each message to a file there instead (used by the worker test).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
if env.str("EMAIL_FILE_PATH", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH")
# Absolute links in e-mails (inbox, settings, unsubscribe).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Partnership portal <portal@localhost>")

# Security keys and passkeys (WebAuthn): the relying party is the portal's host name (a domain, never an address:
# browsers refuse IP addresses), and the browser's origin must be one of WEBAUTHN_ORIGINS. In development, open
# http://localhost:8000 (not 127.0.0.1) to use a key. A key is a second factor only: no sign-in without a password.
_base = urlsplit(PORTAL_BASE_URL)
_base_is_address = not _base.hostname or _base.hostname.replace(".", "").isdigit() or ":" in _base.hostname
OTP_WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default="localhost" if _base_is_address else _base.hostname)
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "WEBAUTHN_ORIGINS", default=["http://localhost:8000"] if _base_is_address else [f"{_base.scheme}://{_base.netloc}"]
)
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# Celery: Redis as broker when REDIS_URL is set; otherwise tasks run in-process (eagerly).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# Workers listen to this queue (the worker integration test gives each run its own).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
# A queue per kind of work (rollups, notifications, webhooks, documents), named after the default one: core/queues.py.
CELERY_TASK_ROUTES = ("core.queues.route",)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# A request must not hang when Redis is down: fail fast, the outbox sweep retries later. "max_retries": 0 is for
# the channel a task is published on: kombu would otherwise try to connect again for CELERY_BROKER_CONNECTION_TIMEOUT
# (2 s) before giving up, which a request would wait. Workers reconnect by their own rules (broker_connection_*).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5, "visibility_timeout": 3600, "max_retries": 0}
# Every task has time limits; the visibility timeout (how long Redis waits before handing an unacknowledged
# task to another worker) is longer than any limit or countdown, so a slow task is never run twice at once.
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = 3 * 3600
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Many changes to one country within this many seconds cost one rollup.
ROLLUP_COALESCE_SECONDS = env.int("ROLLUP_COALESCE_SECONDS", default=2)

# Spreadsheet imports (imports/): what a file may hold, checked before its rows are read (docs/user-guide.md).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=25_000_000)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=10_000)
# An XLSX is a zip: what its directory says it expands to, refused above this before anything is decompressed.
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=250_000_000)
# Files with more rows than this run as a Celery task with a progress bar; smaller ones in the request.
IMPORT_TASK_ROWS = env.int("IMPORT_TASK_ROWS", default=300)
# Rows written per transaction when applying (progress is visible between them).
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=500)
# A dry run or apply with no progress for this long is handed to a worker again (imports.tasks.resume_stalled_imports).
IMPORT_STALLED_MINUTES = env.int("IMPORT_STALLED_MINUTES", default=30)
# How many times a stalled run is handed over before the import is marked failed.
IMPORT_MAX_HANDOVERS = env.int("IMPORT_MAX_HANDOVERS", default=3)
# Retention (docs/configuration.md#retention): days after which what is no longer needed is emptied by the nightly
# apply_retention task; 0 keeps it for ever. A voided engagement loses its text, people and follow-ups' text; an
# erased person's record loses the reason given for the erasure and who erased it.
RETENTION_VOIDED_DAYS = env.int("RETENTION_VOIDED_DAYS", default=730)
RETENTION_ERASED_DAYS = env.int("RETENTION_ERASED_DAYS", default=365)
CELERY_BEAT_SCHEDULE = {
    "dispatch-pending-events": {"task": "core.tasks.dispatch_pending_events", "schedule": 60.0},
    "run-requested-rollups": {"task": "partnerships.tasks.rollup_requested", "schedule": 60.0},
    "release-due-announcements": {"task": "partnerships.tasks.release_due_announcements", "schedule": 60.0},
    "rollup-all-countries": {"task": "partnerships.tasks.rollup_all_countries", "schedule": crontab(hour=2, minute=15)},
    "apply-retention": {"task": "engagements.tasks.apply_retention", "schedule": crontab(hour=3, minute=30)},
    "send-pending-deliveries": {"task": "notifications.tasks.send_pending_deliveries", "schedule": 60.0},
    "purge-idempotency-keys": {"task": "core.tasks.purge_idempotency_keys", "schedule": crontab(minute=40)},
    "purge-briefing-packs": {"task": "partnerships.tasks.purge_briefing_packs", "schedule": crontab(minute=50)},
    "resume-stalled-imports": {"task": "imports.tasks.resume_stalled_imports", "schedule": 300.0},
    "follow-up-reminders": {"task": "notifications.tasks.send_follow_up_reminders", "schedule": crontab(hour=6, minute=0)},
    "daily-digests": {"task": "notifications.tasks.send_digests", "schedule": crontab(hour=6, minute=30), "args": ["daily"]},
    "weekly-digests": {
        "task": "notifications.tasks.send_digests",
        "schedule": crontab(hour=6, minute=45, day_of_week="mon"),
        "args": ["weekly"],
    },
}

# The authority part of the Atom entries' ids (tag URIs) and of the calendars' event UIDs (followup-12@<it>): a
# domain the programme owns. Never change it once feeds are public, or every reader sees every entry again as new
# and every calendar holds each event twice.
FEED_ID_AUTHORITY = env.str("FEED_ID_AUTHORITY", default="ai-partnership-programme.example")

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "core.cache.RedisCache"  # Django's, reusing its client, riding out outages (core/cache.py)
    # A Redis that does not answer costs a request one second at most, then none for a few seconds (core/cache.py).
    for option in ("socket_connect_timeout", "socket_timeout"):
        CACHES["default"].setdefault("OPTIONS", {}).setdefault(option, 1)
# Shared by every process (Redis): tokens, rate limits, status versions, cached pages and sessions live there.
# The per-process default is for one process only (`make run`); `check --deploy` warns about it.
CACHE_IS_SHARED = "locmem" not in CACHES["default"]["BACKEND"]
# Sessions are read from the cache and written through to the database, when the cache is shared.
# (core.sessions: Django's cached_db, where ending a session must reach the cache first.)
SESSION_ENGINE = "core.sessions" if CACHE_IS_SHARED else "django.contrib.sessions.backends.db"

# REST API (/api/v1/): session auth (with CSRF) for the browser, hashed knox tokens for clients.
KNOX_TOKEN_MODEL = "core.ApiToken"
# knox's own migrations create a table for its AuthToken even though core.ApiToken replaces it; that unused
# table (with a foreign key to users) would only get in the way, so knox is left unmigrated.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_DEFAULT_DAYS", default=90)),
    "TOKEN_PREFIX": "ppt_",
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.HasPortalRole"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.TokenRateThrottle", "core.api.throttling.AnonAddressRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_TOKEN", default="1200/min"),
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "ORDERING_PARAM": "ordering",
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "core.api.exceptions.PortalExceptionHandler",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "406", "412", "415", "422", "429"],
    "ERROR_SCHEMAS": {
        "412": "core.api.schema.ErrorResponse412Serializer",
        "422": "core.api.schema.ErrorResponse422Serializer",
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AI Partnership Programme portal API",
    "DESCRIPTION": (
        "Country status and programme data for REST clients. Authenticate with `Authorization: Token <token>`; "
        "lists use `limit`/`offset`; status and detail responses carry an `ETag` (send `If-None-Match` for a 304, "
        "`If-Match` on PATCH for a 412 on a stale copy); a POST with an `Idempotency-Key` is done once, "
        "the same key and request within 24 hours getting the first answer again."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No deep links: Swagger UI puts each operation's link inside its toggle button (axe: nested-interactive).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    # ReDoc from the sidecar's bundle, served by core.api.openapi_document.redoc_script without its CDN logo.
    "REDOC_DIST": "/api/v1/redoc",
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
        "HealthEnum": "countries.models.Health.choices",
        "EngagementKindEnum": "config.api_enums.ENGAGEMENT_KIND",
        "AgreementKindEnum": "config.api_enums.AGREEMENT_KIND",
        "StageKindEnum": "config.api_enums.STAGE_KIND",
        "PartnershipStatusEnum": "config.api_enums.PARTNERSHIP_STATUS",
        "AnnouncementStatusEnum": "config.api_enums.ANNOUNCEMENT_STATUS",
        "FacilityKindEnum": "config.api_enums.FACILITY_KIND",
        "FacilityStatusEnum": "config.api_enums.FACILITY_STATUS",
        "OrganisationKindEnum": "config.api_enums.ORGANISATION_KIND",
        "CapacityPhaseStateEnum": "config.api_enums.CAPACITY_PHASE_STATE",
    },
    # Relative: the document describes the host it is read from (a test server, staging, production).
    "SERVERS": [{"url": "/", "description": "The portal that serves this document."}],
    "TAGS": [
        {"name": "status", "description": "Every country's status in one response, for bulk pulls (the rollup)."},
        {"name": "countries", "description": "Countries by ISO 3166-1 code (either case), and one country's status."},
        {"name": "partnerships", "description": "A country in the programme, by its country code."},
        {
            "name": "country-tracks",
            "description": "One track of one country: its stage, health and next steps, "
            "and the moves between stages (move, pause, resume, withdraw).",
        },
        {"name": "stage-changes", "description": "The history of stage moves, with the evidence each cites."},
        {
            "name": "engagements",
            "description": "Meetings, calls, visits, letters and signings with a country; "
            "confidential ones only for its liaisons and staff.",
        },
        {"name": "follow-ups", "description": "Things to do after engagements: complete and reopen."},
        {"name": "counterparts", "description": "People on the countries' side, and their posts."},
        {"name": "agreements", "description": "Letters of intent, memoranda of understanding and binding agreements."},
        {"name": "announcements", "description": "Public announcements: drafts, embargo (schedule), publish, withdraw."},
        {"name": "facilities", "description": "Data centres and supercomputers, their capacity phases and partners."},
        {"name": "organisations", "description": "Companies, agencies and institutions that take part in facilities."},
        {"name": "tracks", "description": "The programme's tracks and their stage ladders (read-only)."},
        {"name": "users", "description": "The caller: roles, and the countries they write for."},
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "core.api.schema_hooks.describe_responses",
        "core.api.schema_hooks.admit_service_rule_errors",
        "core.api.schema_hooks.drop_unused_components",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # One line per message: Django's own console handler would repeat what the root logger prints.
    "loggers": {
        "django": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO"), "propagate": False},
        # WeasyPrint logs each step of every PDF and each screen-only CSS rule it skips: errors are what matter.
        "weasyprint": {"level": "ERROR"},
        "weasyprint.progress": {"level": "ERROR"},
    },
}
