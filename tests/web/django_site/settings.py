"""Settings of the small Django site that runs Postorius and HyperKitty beside Posthorn.

Everything that differs between runs comes from the environment, set by
tests/web/server.py: the state folder (SQLite database, static and compressed files),
the Posthorn REST API and its credentials, and HyperKitty's archiver key.
"""

import os
from pathlib import Path

from django.contrib.messages import constants as messages

STATE = Path(os.environ["POSTHORN_WEB_STATE"])
SASS = os.environ["POSTHORN_WEB_SASS"]

SECRET_KEY = "posthorn-web-tests-only"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SITE_ID = 1

MAILMAN_REST_API_URL = os.environ["POSTHORN_REST_URL"]
MAILMAN_REST_API_USER = os.environ["POSTHORN_REST_USER"]
MAILMAN_REST_API_PASS = os.environ["POSTHORN_REST_PASS"]
MAILMAN_ARCHIVER_KEY = os.environ["POSTHORN_ARCHIVER_KEY"]
MAILMAN_ARCHIVER_FROM = ("127.0.0.1", "::1")

INSTALLED_APPS = [
    "hyperkitty",
    "postorius",
    "django_mailman3",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_gravatar",
    "compressor",
    "haystack",
    "django_extensions",
    "django_q",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
]

MIDDLEWARE = [
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_mailman3.middleware.TimezoneMiddleware",
    "postorius.middleware.PostoriusMiddleware",
]

ROOT_URLCONF = "urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.i18n",
                "django.template.context_processors.media",
                "django.template.context_processors.static",
                "django.template.context_processors.tz",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django_mailman3.context_processors.common",
                "hyperkitty.context_processors.common",
                "postorius.context_processors.postorius",
            ],
        },
    },
]

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(STATE / "web.sqlite3")}
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = str(STATE / "static")
COMPRESS_ROOT = str(STATE / "compressed")
STATICFILES_FINDERS = (
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "compressor.finders.CompressorFinder",
)
COMPRESS_PRECOMPILERS = (("text/x-scss", f"{SASS} {{infile}} {{outfile}}"),)

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "list_index"
LOGOUT_URL = "account_logout"
MESSAGE_TAGS = {messages.ERROR: "danger"}

AUTHENTICATION_BACKENDS = (
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
)
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = str(STATE / "emails")
DEFAULT_FROM_EMAIL = "postorius@example.org"

HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
# Tasks (thread rebuilding, sender look-ups) run in the request, not in a cluster.
Q_CLUSTER = {"retry": 60, "timeout": 30, "orm": "default", "sync": True}

POSTORIUS_TEMPLATE_BASE_URL = os.environ.get("POSTHORN_WEB_URL", "http://127.0.0.1:8000")
FILTER_VHOST = False
# No avatar service: the site and the browser talk to loopback only.
GRAVATAR_URL = GRAVATAR_SECURE_URL = "http://127.0.0.1:9/"
GRAVATAR_DEFAULT_IMAGE = "mm"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR"},
        "postorius": {"handlers": ["console"], "level": "ERROR"},
        "hyperkitty": {"handlers": ["console"], "level": "WARNING"},
    },
}
