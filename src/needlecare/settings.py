"""Django settings, all from the environment, with safe defaults for a laptop.

Production (NEEDLECARE_ENV=production) refuses to start with DEBUG on or without a real secret
key. SQLite is the default database; DATABASE_URL switches to PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("NEEDLECARE_VAR_DIR", Path.cwd() / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

ENVIRONMENT = os.environ.get("NEEDLECARE_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# The old published development key: refused everywhere, so no installation keeps it.
_PUBLISHED_KEYS = {"development-only-secret-key-never-use-in-production"}


def _installation_secret(path: Path) -> str:
    """A development key generated once per installation into var/ (mode 0600), never a
    constant in the source: sessions and patient-device cookies signed on one laptop are not
    valid on another."""
    import secrets  # only development reaches this

    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


SECRET_KEY = os.environ.get("NEEDLECARE_SECRET_KEY", "")
if not SECRET_KEY and not PRODUCTION:
    SECRET_KEY = _installation_secret(VAR_DIR / "secret-key")
DEBUG = _flag("NEEDLECARE_DEBUG", not PRODUCTION)

if SECRET_KEY in _PUBLISHED_KEYS:
    raise ImproperlyConfigured("NEEDLECARE_SECRET_KEY is a published placeholder; unset it "
                               "(development) or set a long random value (production).")
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("NEEDLECARE_DEBUG must be off in production.")
    if len(SECRET_KEY) < 40 or "change" in SECRET_KEY.lower():
        raise ImproperlyConfigured(
            "Set NEEDLECARE_SECRET_KEY to a long random value (50+ characters) in production."
        )

ALLOWED_HOSTS = [h for h in os.environ.get(
    "NEEDLECARE_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
).split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("NEEDLECARE_CSRF_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "needlecare.accounts",
    "needlecare.audit",
    "needlecare.ratelimits",
    "needlecare.patients",
    "needlecare.care",
    "needlecare.recovery",
    "needlecare.diary",
    "needlecare.documents",
    "needlecare.outcomes",
    "needlecare.photos",
    "needlecare.messaging",
    "needlecare.chart",
    "needlecare.education",
    "needlecare.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files answer here, compressed already
    # Below WhiteNoise and above everything that writes a body: pages and JSON leave gzipped.
    "needlecare.web.compression.CompressText",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "needlecare.web.middleware.AbsoluteSessionTimeout",
    "needlecare.web.middleware.AccessRefusals",
    "needlecare.web.middleware.DatabaseBusy",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "needlecare.urls"
WSGI_APPLICATION = "needlecare.wsgi.application"

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
                "needlecare.web.context.clinic",
            ],
        },
    },
]

_SQLITE_PATH = VAR_DIR / "needlecare.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{_SQLITE_PATH}"), conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Without IMMEDIATE transactions SQLite silently loses read-then-write updates under
    # concurrency (see engineering notes); WAL lets readers proceed during a write.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 10,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; "
                        "PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: five failures lock the username from that address for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("NEEDLECARE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Staff sessions end after 30 idle minutes and at most 12 hours after login.
SESSION_COOKIE_AGE = int(os.environ.get("NEEDLECARE_SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _flag("NEEDLECARE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31536000
    # Load balancers probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("NEEDLECARE_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request when it is missing
# The project-wide CSS lives beside the settings, outside any app's static/ folder.
STATICFILES_DIRS = [BASE_DIR / "static"]
# With DEBUG off (production, or any server run with NEEDLECARE_DEBUG=0) static files get
# content-hashed names: a changed stylesheet gets a new address, so WhiteNoise lets browsers
# keep each one for good instead of revalidating it on every page, and serves gzip/Brotli
# copies made once by `collectstatic` (which `needlecare serve` runs first). With DEBUG on
# (development, `make demo`, the test settings) WhiteNoise serves the source folders as they
# are, with nothing to collect.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(VAR_DIR / "media")}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
                    if DEBUG else
                    "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def _s3_storage() -> dict[str, object] | None:
    """Photos and documents on an S3-compatible object store when NEEDLECARE_S3_BUCKET is set
    (docs/operations.md lists the variables); the local files under var/media otherwise."""
    bucket = os.environ.get("NEEDLECARE_S3_BUCKET", "").strip()
    if not bucket:
        return None
    endpoint = os.environ.get("NEEDLECARE_S3_ENDPOINT_URL", "").strip() or None
    encryption = os.environ.get("NEEDLECARE_S3_SSE", "").strip()
    parameters: dict[str, str] = {}
    if encryption in {"AES256", "aws:kms"}:
        parameters["ServerSideEncryption"] = encryption
        key_id = os.environ.get("NEEDLECARE_S3_SSE_KMS_KEY_ID", "").strip()
        if encryption == "aws:kms" and key_id:
            parameters["SSEKMSKeyId"] = key_id
    elif encryption:
        raise ImproperlyConfigured("NEEDLECARE_S3_SSE must be empty, AES256 or aws:kms.")
    options: dict[str, object] = {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": os.environ.get("NEEDLECARE_S3_REGION", "").strip() or None,
        # Unset keys leave boto3 to its own chain (instance role, ~/.aws, AWS_* variables).
        "access_key": os.environ.get("NEEDLECARE_S3_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("NEEDLECARE_S3_SECRET_ACCESS_KEY") or None,
        "location": os.environ.get("NEEDLECARE_S3_PREFIX", "").strip("/"),
        # Objects stay private: files are served through the access layer, never by URL.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 60,
        "file_overwrite": False,
        "signature_version": "s3v4",
        # Self-hosted stores (SeaweedFS, MinIO, Ceph) expect path-style addresses.
        "addressing_style": os.environ.get("NEEDLECARE_S3_ADDRESSING_STYLE",
                                           "path" if endpoint else "auto"),
        "object_parameters": parameters,
    }
    if _flag("NEEDLECARE_S3_CHECKSUMS_WHEN_REQUIRED", False):
        # boto3 >= 1.36 sends CRC32 checksums by default, which some S3-compatible stores
        # mishandle (engineering notes); this sends them only when an operation requires one.
        from botocore.config import Config

        options["client_config"] = Config(request_checksum_calculation="when_required",
                                          response_checksum_validation="when_required")
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


_S3_STORAGE = _s3_storage()
if _S3_STORAGE is not None:
    STORAGES["default"] = _S3_STORAGE

# Photo uploads, the same limits on the web form and the API (docs/photos.md): the file's size,
# and its pixels (read from the header before decoding: a decompression bomb is refused).
PHOTO_MAX_BYTES = int(os.environ.get("NEEDLECARE_PHOTO_MAX_MB", "25")) * 1024 * 1024
PHOTO_MAX_PIXELS = int(os.environ.get("NEEDLECARE_PHOTO_MAX_MEGAPIXELS", "50")) * 1_000_000
# The whole request that carries photos (the staff form takes several at once): its body may
# be this large, instead of NEEDLECARE_MAX_UPLOAD_BYTES, on the routes that accept photos. A
# 12 MP phone photo is 2-8 MB as JPEG and 1-4 MB as HEIC; each file stays under PHOTO_MAX_BYTES.
PHOTO_UPLOAD_MAX_BYTES = int(os.environ.get("NEEDLECARE_PHOTO_UPLOAD_MAX_MB", "160")) * 1024 * 1024
#: Multipart body limits by route (view name), over the general upload limit; read by the
#: body-size middleware (web.middleware.BodySizeLimit) before the body is.
UPLOAD_LIMITS_BY_ROUTE = {
    "photo-upload": PHOTO_UPLOAD_MAX_BYTES,
    "patient-checkin-photos": PHOTO_UPLOAD_MAX_BYTES,
    "api:upload_photo": PHOTO_UPLOAD_MAX_BYTES,
    "api:add_checkin_photo": PHOTO_UPLOAD_MAX_BYTES,
}

EMAIL_BACKEND = os.environ.get(
    "NEEDLECARE_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "sent-mail"
DEFAULT_FROM_EMAIL = os.environ.get("NEEDLECARE_FROM_EMAIL", "needlecare@localhost")

# The patient's personal link: how long it works, and how long a device stays verified.
PATIENT_DEVICE_COOKIE_DAYS = 30
# How many check-ins one personal link accepts in a day (the clinic's local day); the next is
# refused with the clinic's number. Plenty for a worried patient, a wall for a stuck script.
PATIENT_CHECKINS_PER_DAY = int(os.environ.get("NEEDLECARE_CHECKINS_PER_DAY", "12"))
# When the database is busy (a locked SQLite), pages and the API answer 503 and ask the client
# to try again after this many seconds.
DATABASE_BUSY_RETRY_AFTER = int(os.environ.get("NEEDLECARE_BUSY_RETRY_AFTER", "5"))
# Where patient links point (the public address of this deployment).
PUBLIC_BASE_URL = os.environ.get("NEEDLECARE_PUBLIC_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("NEEDLECARE_LOG_LEVEL",
                                                              "WARNING")},
}


# --- Messaging: outbox, worker, email and SMS (issue 4) ------------------------------------
# Email uses EMAIL_BACKEND above (files under var/sent-mail in development, SMTP in production).
EMAIL_HOST = os.environ.get("NEEDLECARE_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("NEEDLECARE_EMAIL_PORT", "587" if PRODUCTION else "25"))
EMAIL_HOST_USER = os.environ.get("NEEDLECARE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("NEEDLECARE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _flag("NEEDLECARE_EMAIL_TLS", PRODUCTION)
EMAIL_USE_SSL = _flag("NEEDLECARE_EMAIL_SSL", False)
# Shorter than the worker's claim timeout, so a slow server never causes a second send.
EMAIL_TIMEOUT = int(os.environ.get("NEEDLECARE_EMAIL_TIMEOUT", "30"))
# The domain of the Message-ID header (default: the host of NEEDLECARE_PUBLIC_URL).
MESSAGING_MESSAGE_ID_DOMAIN = os.environ.get("NEEDLECARE_MESSAGE_ID_DOMAIN", "")
# Attach the aftercare plan, signed consent and check-in calendar to the aftercare email.
MESSAGING_ATTACH_DOCUMENTS = _flag("NEEDLECARE_MESSAGE_ATTACHMENTS", True)

# SMS: "file" (JSON files under var/sent-sms), "console", "webhook", or a dotted path to an
# SmsBackend subclass (needlecare.messaging.channels.sms).
MESSAGING_SMS_BACKEND = os.environ.get("NEEDLECARE_SMS_BACKEND",
                                       "webhook" if PRODUCTION else "file")
MESSAGING_SMS_FILE_PATH = VAR_DIR / "sent-sms"
SMS_SENDER = os.environ.get("NEEDLECARE_SMS_FROM", "Needlecare")
# The generic HTTP webhook for SMS providers: POST SMS_WEBHOOK_BODY (with $to, $body, $sender
# and $reference substituted, encoded for the content type) to SMS_WEBHOOK_URL, with the auth
# header ("Name: value") and the message's dedupe key in the idempotency header.
SMS_WEBHOOK_URL = os.environ.get("NEEDLECARE_SMS_WEBHOOK_URL", "")
SMS_WEBHOOK_AUTH_HEADER = os.environ.get("NEEDLECARE_SMS_WEBHOOK_AUTH_HEADER", "")
SMS_WEBHOOK_CONTENT_TYPE = os.environ.get("NEEDLECARE_SMS_WEBHOOK_CONTENT_TYPE",
                                          "application/json")
SMS_WEBHOOK_BODY = os.environ.get(
    "NEEDLECARE_SMS_WEBHOOK_BODY",
    '{"to": $to, "from": $sender, "text": $body, "reference": $reference}')
SMS_WEBHOOK_IDEMPOTENCY_HEADER = os.environ.get("NEEDLECARE_SMS_WEBHOOK_IDEMPOTENCY_HEADER",
                                                "Idempotency-Key")
SMS_WEBHOOK_TIMEOUT = float(os.environ.get("NEEDLECARE_SMS_WEBHOOK_TIMEOUT", "20"))

# The worker: a claimed message whose worker died is claimed again after this many seconds
# (keep it well above the channel timeouts); failures wait MESSAGING_RETRY_SECONDS, doubling
# up to MESSAGING_RETRY_MAX_SECONDS, and are given up ("dead") after MESSAGING_MAX_ATTEMPTS.
MESSAGING_CLAIM_TIMEOUT = int(os.environ.get("NEEDLECARE_WORKER_CLAIM_TIMEOUT", "300"))
MESSAGING_RETRY_SECONDS = int(os.environ.get("NEEDLECARE_WORKER_RETRY_SECONDS", "60"))
MESSAGING_RETRY_MAX_SECONDS = int(os.environ.get("NEEDLECARE_WORKER_RETRY_MAX_SECONDS",
                                                 str(6 * 60 * 60)))
MESSAGING_MAX_ATTEMPTS = int(os.environ.get("NEEDLECARE_WORKER_MAX_ATTEMPTS", "10"))
MESSAGING_POLL_SECONDS = float(os.environ.get("NEEDLECARE_WORKER_POLL_SECONDS", "5"))
# The reminder of the next session goes this many days before the patient may have it.
MESSAGING_NEXT_SESSION_LEAD_DAYS = int(os.environ.get("NEEDLECARE_NEXT_SESSION_LEAD_DAYS",
                                                      "3"))
# Sent, cancelled and skipped outbox rows older than this many days are purged by the worker
# (messaging/upkeep.py), for clinics whose messaging settings do not say otherwise; the worker
# does its upkeep (purge, SQLite statistics) every MESSAGING_UPKEEP_SECONDS.
MESSAGING_OUTBOX_RETENTION_DAYS = int(os.environ.get("NEEDLECARE_OUTBOX_RETENTION_DAYS", "365"))
MESSAGING_UPKEEP_SECONDS = float(os.environ.get("NEEDLECARE_WORKER_UPKEEP_SECONDS", "60"))
# --- end of messaging settings ---------------------------------------------------------------

# --- Articles, reading and the newsletter (issue 13) ------------------------------------------
# How long a newsletter confirmation link works.
EDUCATION_CONFIRM_HOURS = int(os.environ.get("NEEDLECARE_NEWSLETTER_CONFIRM_HOURS", "48"))
# The key of the email provider's bounce and complaint webhook (docs/newsletter.md); without
# it the webhook answers 503.
EDUCATION_EMAIL_WEBHOOK_SECRET = os.environ.get("NEEDLECARE_EMAIL_WEBHOOK_SECRET", "")

# --- Security and operations (issue 14: backups, headers, logs, limits, defaults, rights) ----
# Kept in one block, apart from the sign-in and audit settings, so that the two halves of the
# issue merge cleanly.
INSTALLED_APPS += [
    "csp",
    # django-ninja's own copy of Swagger UI (pinned with the package) is served from our
    # static files when "ninja" is an installed app, instead of from a public CDN.
    "ninja",
    "needlecare.rights",
]
# Stored files (documents, photos) are readable by the service's user and group only; Django
# would otherwise set 0644 on each file whatever the process's umask.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# The Content-Security-Policy header (django-csp 4) on every response, and the body-size
# limit before anything reads a body; both right after the HTTPS redirect.
_AFTER_SECURITY = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE[_AFTER_SECURITY:_AFTER_SECURITY] = [
    "csp.middleware.CSPMiddleware",
    "needlecare.web.middleware.BodySizeLimit",
]
# No inline scripts or styles and no other origin: everything the pages use is our own static
# files. htmx's indicator styles are switched off with the htmx-config meta tag (base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Swagger UI's stylesheet draws its icons as data: SVGs.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# A request body larger than this is refused with 413 before it is read (file uploads have
# their own, larger limit). Django's own check would answer 400 on pages and 500 in the API.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("NEEDLECARE_MAX_BODY_BYTES", str(1024 * 1024)))
MAX_UPLOAD_BYTES = int(os.environ.get("NEEDLECARE_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
# The API's documentation page (/api/docs): open in development, staff only in production
# unless this opens it.
API_DOCS_PUBLIC = _flag("NEEDLECARE_API_DOCS_PUBLIC", not PRODUCTION)
# Personal-link tokens and API tokens never reach a log: every record through the console
# handler is redacted (Django's request warnings and error tracebacks included).
LOGGING["filters"] = {"redact_secrets": {"()": "needlecare.web.redaction.RedactSecrets"}}
cast(dict[str, Any], LOGGING["handlers"])["console"]["filters"] = ["redact_secrets"]
# The worker's heartbeat: written every MESSAGING_HEARTBEAT_SECONDS; a worker silent for
# MESSAGING_HEARTBEAT_STALE_SECONDS is taken for dead and its claimed messages are released.
MESSAGING_HEARTBEAT_SECONDS = float(os.environ.get("NEEDLECARE_WORKER_HEARTBEAT_SECONDS", "2"))
MESSAGING_HEARTBEAT_STALE_SECONDS = float(os.environ.get(
    "NEEDLECARE_WORKER_HEARTBEAT_STALE_SECONDS", "10"))
# /readyz fails when no worker has beaten for this long.
READYZ_WORKER_SECONDS = float(os.environ.get("NEEDLECARE_READYZ_WORKER_SECONDS", "60"))
# The patient's rights: a record with clinical entries is kept this many years after the
# last one before it may be erased in full (clinic policy; see docs/operations.md).
RECORD_RETENTION_YEARS = int(os.environ.get("NEEDLECARE_RECORD_RETENTION_YEARS", "8"))
# --- end of security and operations settings --------------------------------------------------
# --- Sign-in, audit trail and client address (issue 14, items 1-4) -------------------------
# Second factors: django-otp's authenticator-app codes (TOTP) and recovery codes, and passkeys
# (WebAuthn) through django-otp-webauthn; docs/operations.md says why these.
INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
]
# The audit trail's refusals are written once the refused request's transaction has ended, so
# the middleware that writes them wraps every other; the second-factor gate comes after the
# user is known.
MIDDLEWARE.insert(0, "needlecare.audit.refusals.RefusalTrail")
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                  "django_otp.middleware.OTPMiddleware")
MIDDLEWARE.insert(MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
                  "needlecare.accounts.signin.SecondFactorGate")
AUTHENTICATION_BACKENDS += ["django_otp_webauthn.backends.WebAuthnBackend"]
# Passwords: also refuse any that contains the user's own names or the clinic's.
AUTH_PASSWORD_VALIDATORS += [
    {"NAME": "needlecare.accounts.passwords.NamesInPasswordValidator"},
]
# A password-reset link works once, for an hour.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("NEEDLECARE_PASSWORD_RESET_SECONDS", "3600"))
OTP_TOTP_ISSUER = os.environ.get("NEEDLECARE_TOTP_ISSUER", "Needlecare")
# A passkey belongs to one host name (the relying party), never an IP address: in development
# open the app at http://localhost:8000 to use passkeys.
_PUBLIC = urlsplit(PUBLIC_BASE_URL)
_PUBLIC_HOST = _PUBLIC.hostname or "localhost"
_PUBLIC_IS_IP = _PUBLIC_HOST.replace(".", "").isdigit() or ":" in _PUBLIC_HOST
OTP_WEBAUTHN_RP_ID = os.environ.get("NEEDLECARE_PASSKEY_DOMAIN",
                                    "localhost" if _PUBLIC_IS_IP else _PUBLIC_HOST)
OTP_WEBAUTHN_RP_NAME = os.environ.get("NEEDLECARE_PASSKEY_NAME", "Needlecare")
OTP_WEBAUTHN_ALLOWED_ORIGINS = [o for o in os.environ.get(
    "NEEDLECARE_PASSKEY_ORIGINS",
    f"http://localhost:{_PUBLIC.port or 8000}" if _PUBLIC_IS_IP
    else f"{_PUBLIC.scheme}://{_PUBLIC.netloc}").split(",") if o]
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = "needlecare.passkeys"

# The address of the client behind a reverse proxy: X-Forwarded-For is read only from the
# proxies listed here (comma-separated addresses or CIDR ranges), and the sign-in lock keys on
# the username together with that address.
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("NEEDLECARE_TRUSTED_PROXIES", "").split(",")
                   if p.strip()]
AXES_CLIENT_IP_CALLABLE = "needlecare.access.client_ip"

# The audit trail: the worker seals new rows this often, and logs each chain's new head.
AUDIT_SEAL_SECONDS = float(os.environ.get("NEEDLECARE_AUDIT_SEAL_SECONDS", "5"))
LOGGING["loggers"] = {**cast(dict[str, Any], LOGGING.get("loggers", {})),
                      "needlecare.audit": {"level": "INFO"}}
# --- end of sign-in and audit settings ------------------------------------------------------
