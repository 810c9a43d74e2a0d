"""Start-up behaviour of config/settings.py, checked in fresh interpreters with a controlled environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], 'name': str(settings.DATABASES['default']['NAME']),"
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, 'email': settings.EMAIL_BACKEND,"
    "'debug': settings.DEBUG, 'languages': [c for c, _ in settings.LANGUAGES], 'tz': settings.TIME_ZONE,"
    "'use_tz': settings.USE_TZ, 'locale_mw': 'django.middleware.locale.LocaleMiddleware' in settings.MIDDLEWARE,"
    "'secret': settings.SECRET_KEY}))"
)
PORTAL_VARS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "EMAIL_URL", "TIME_ZONE", "ALLOWED_HOSTS")


def run_settings(**env_vars):
    env = {k: v for k, v in os.environ.items() if k not in PORTAL_VARS}
    env.update(env_vars, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_no_variables_gives_the_embedded_default():
    result = run_settings()
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "db.sqlite3")
    assert values["eager"] is True
    assert values["broker"] == "memory://"
    assert values["email"] == "django.core.mail.backends.console.EmailBackend"
    assert values["debug"] is True
    assert values["languages"] == ["en", "fr"]
    assert values["locale_mw"] is True
    assert values["use_tz"] is True and values["tz"] == "UTC"
    assert values["secret"].startswith("django-insecure-development-only")


def test_full_stack_variables_are_read():
    result = run_settings(
        DATABASE_URL="postgres://portal:pw@db.internal:5432/portal",
        REDIS_URL="redis://cache.internal:6379/2",
        SECRET_KEY="x" * 60,
        DEBUG="0",
        EMAIL_URL="smtp://mailer.internal:25",
        TIME_ZONE="Europe/Paris",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "portal"
    assert values["eager"] is False
    assert values["broker"] == "redis://cache.internal:6379/2"
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["debug"] is False
    assert values["tz"] == "Europe/Paris"
    assert values["secret"] == "x" * 60


def test_debug_off_without_secret_key_refuses_to_start_with_a_clear_message():
    result = run_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def _database_options(**env_vars) -> dict:
    probe = "import json; from django.conf import settings; print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    env = {k: v for k, v in os.environ.items() if k not in PORTAL_VARS and k != "POSTGRES_JIT"}
    env.update(env_vars, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_connections_compile_no_queries_unless_told():
    """JIT compilation cost the pipeline as of a past day 239 ms for a 15 ms query at 1,000,000 engagements."""
    url = "postgres://portal@127.0.0.1:5432/portal"
    assert _database_options(DATABASE_URL=url)["options"] == "-c jit=off"
    assert "options" not in _database_options(DATABASE_URL=url, POSTGRES_JIT="1")
    assert "options" not in _database_options()  # SQLite has no JIT


@pytest.mark.django_db
def test_the_test_databases_connection_has_jit_off():
    from django.db import connection

    from tests.conftest import needs_postgresql

    needs_postgresql()
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
