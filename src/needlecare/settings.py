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


_DEV_SECRET = "development-only-secret-key-never-use-in-production"
SECRET_KEY = os.environ.get("NEEDLECARE_SECRET_KEY", _DEV_SECRET)
DEBUG = _flag("NEEDLECARE_DEBUG", not PRODUCTION)

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("NEEDLECARE_DEBUG must be off in production.")
    if SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 40 or "change" in SECRET_KEY.lower():
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
    "needlecare.patients",
    "needlecare.care",
    "needlecare.recovery",
    "needlecare.documents",
    "needlecare.messaging",
    "needlecare.chart",
    "needlecare.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "needlecare.web.middleware.AbsoluteSessionTimeout",
    "needlecare.web.middleware.AccessRefusals",
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
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(VAR_DIR / "media")}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
                    if PRODUCTION else
                    "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = os.environ.get(
    "NEEDLECARE_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "sent-mail"
DEFAULT_FROM_EMAIL = os.environ.get("NEEDLECARE_FROM_EMAIL", "needlecare@localhost")

# The patient's personal link: how long it works, and how long a device stays verified.
PATIENT_LINK_DAYS = int(os.environ.get("NEEDLECARE_PATIENT_LINK_DAYS", "60"))
PATIENT_DEVICE_COOKIE_DAYS = 30
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
# --- end of messaging settings ---------------------------------------------------------------


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
