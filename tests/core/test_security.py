"""Hardening: production settings pass Django's deploy check, the Content-Security-Policy, the sign-in lockout
(django-axes), sessions, password rules, and the lockout of failed API tokens."""

import datetime
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle

from announcements.services import announcement_create, announcement_publish
from core.security import client_address
from core.services import api_token_create
from partnerships.services import partnership_create
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "a-strong-test-only-secret-key-0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SECURITY_VARS = (
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
)


def deploy_check(**env_vars) -> subprocess.CompletedProcess:
    """`manage.py check --deploy --fail-level WARNING` in a fresh interpreter with a controlled environment."""
    # Not what production has: the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE (Playwright's event loop).
    env = {k: v for k, v in os.environ.items() if k not in SECURITY_VARS and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    # Production shares its cache (docs/operations.md, "Caching"); the check only reads the setting, it does not connect.
    env.update({"DEBUG": "0", "SECRET_KEY": STRONG_KEY, "CACHE_URL": "redis://127.0.0.1:6379/1", **env_vars})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- Production settings -----------------------------------------------------------------------------------


def test_a_per_process_cache_fails_the_deploy_check():
    result = deploy_check(CACHE_URL="locmemcache://")
    assert result.returncode == 1 and "portal.W001" in result.stdout + result.stderr


def test_production_settings_pass_the_deploy_check():
    result = deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "warning"),
    [
        ("SECURE_SSL_REDIRECT", "0", "security.W008"),
        ("SESSION_COOKIE_SECURE", "0", "security.W012"),
        ("CSRF_COOKIE_SECURE", "0", "security.W016"),
        ("SECURE_HSTS_SECONDS", "0", "security.W004"),
        ("SECURE_HSTS_PRELOAD", "0", "security.W021"),
        ("SECRET_KEY", "x" * 60, "security.W009"),  # long enough to start, but only one distinct character
    ],
)
def test_each_protection_can_be_switched_off_and_the_deploy_check_says_so(variable, value, warning):
    result = deploy_check(**{variable: value})
    assert result.returncode != 0
    assert warning in result.stderr + result.stdout


@pytest.mark.parametrize("key", ["too-short", "django-insecure-" + "k" * 60])
def test_debug_off_refuses_a_short_or_placeholder_secret_key(key):
    result = deploy_check(SECRET_KEY=key)
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_development_keeps_plain_http_working():
    # The test settings are the development ones (DEBUG on when they were read): nothing forces HTTPS.
    assert settings.SECURE_SSL_REDIRECT is False
    assert settings.SESSION_COOKIE_SECURE is False and settings.CSRF_COOKIE_SECURE is False
    assert settings.SECURE_HSTS_SECONDS == 0
    assert settings.SECURE_PROXY_SSL_HEADER is None


# --- Content-Security-Policy ------------------------------------------------------------------------------------


def policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip())


STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


@pytest.fixture
def superuser_client(client, db):
    user = factories.staff(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_every_html_page_carries_the_strict_policy(client, superuser_client, staff_user):
    partnership_create(actor=staff_user, country=factories.country("KE"))
    announcement = announcement_create(actor=staff_user, title="Kenya joins", countries=[factories.country("KE")])
    announcement_publish(actor=staff_user, announcement=announcement)
    anonymous = client.__class__()
    for url in (reverse("login"), reverse("public-announcements"), reverse("public-announcement", args=[announcement.pk])):
        response = anonymous.get(url)
        assert response.status_code == 200, url
        assert policy(response) == STRICT, url
    for url in ("/", "/dashboard/", "/dashboard/map/", "/countries/ke/", "/admin/", "/admin/axes/accessattempt/"):
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        assert "text/html" in response["Content-Type"]
        assert policy(response) == STRICT, url
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_swagger_ui_runs_its_one_inline_script_by_nonce(superuser_client):
    response = superuser_client.get("/api/v1/docs/")
    assert response.status_code == 200
    directives = policy(response)
    nonce = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9+/=]+)'", directives["script-src"]).group(1)
    assert directives["style-src"] == f"'self' 'nonce-{nonce}'"
    html = response.content.decode()
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline_scripts == [f' nonce="{nonce}"']
    assert "fonts.googleapis.com" not in html


def test_redoc_alone_may_use_inline_styles_and_keeps_scripts_strict(superuser_client):
    response = superuser_client.get("/api/v1/redoc/")
    assert response.status_code == 200
    directives = policy(response)
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert directives["worker-src"] == "'self' blob:"
    assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9+/=]+'", directives["script-src"])
    assert "fonts.googleapis.com" not in response.content.decode()


TEMPLATES_DIR = ROOT / "templates"
# What a strict policy refuses: inline scripts, style attributes and elements, event-handler attributes, javascript: URLs.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle\s*=|<style\b|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def test_no_template_or_drawn_chart_needs_inline_script_or_style():
    offenders = []
    for path in sorted(TEMPLATES_DIR.rglob("*.html")) + sorted(TEMPLATES_DIR.rglob("*.svg")):
        relative = path.relative_to(TEMPLATES_DIR).as_posix()
        if "/email/" in relative or relative.startswith("drf_spectacular/"):
            continue  # e-mails are read in mail clients, not under the portal's policy; the API docs use the nonce
        offenders += [f"{relative}: {m.group(0)!r}" for m in INLINE.finditer(path.read_text(encoding="utf-8"))]
    # The Python that draws markup: charts, the world map, the dashboards' HTML pieces.
    markup = re.compile(r"<script\b|<style\b|\sstyle=|\son[a-z]+=[\"']|javascript:", re.IGNORECASE)
    for name in ("charts.py", "render.py", "worldmap.py", "views.py"):
        text = (ROOT / "dashboards" / name).read_text(encoding="utf-8")
        offenders += [f"dashboards/{name}: {m.group(0)!r}" for m in markup.finditer(text)]
    assert offenders == []


# --- Sign-in lockout (django-axes) ----------------------------------------------------------------------------------


def sign_in(client, username: str, password: str, address: str = "192.0.2.10", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def test_repeated_wrong_passwords_lock_the_account_from_that_address_only(client, viewer_user):
    limit = settings.AXES_FAILURE_LIMIT
    assert (limit, settings.AXES_COOLOFF_TIME) == (5, datetime.timedelta(minutes=15))
    for _ in range(limit - 1):
        assert sign_in(client, "viewer", "wrong-password").status_code == 200  # the form again, with its error
    locked = sign_in(client, "viewer", "wrong-password")
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Sign-in paused" in html and "Try again in 15 minutes" in html
    assert "There were 5 failed attempts in a row" in html
    assert 'class="site-header"' in html  # the portal's own page (base.html), not a bare text
    assert locked["Retry-After"] == "900"
    assert policy(locked) == STRICT

    # Even the right password is refused from there, for this account...
    assert sign_in(client, "viewer", "pw-for-tests-1").status_code == 429
    assert "_auth_user_id" not in client.session
    # ...while the same account signs in from another address, and another account from the same one.
    assert sign_in(client.__class__(), "viewer", "pw-for-tests-1", address="198.51.100.7").status_code == 302
    factories.viewer(username="colleague")
    assert sign_in(client.__class__(), "colleague", "pw-for-tests-1").status_code == 302

    # After the cool-off the account signs in again from the first address.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        assert sign_in(client.__class__(), "viewer", "pw-for-tests-1").status_code == 302


def test_a_successful_sign_in_resets_the_count(client, viewer_user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "viewer", "wrong-password")
    assert sign_in(client, "viewer", "pw-for-tests-1").status_code == 302
    other = client.__class__()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(other, "viewer", "wrong-password").status_code == 200
    assert sign_in(other, "viewer", "pw-for-tests-1").status_code == 302


def test_the_admin_sign_in_is_covered_too(client, db):
    factories.staff(username="root", is_staff=True, is_superuser=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "root", "password": "wrong"}, REMOTE_ADDR="192.0.2.20")
    response = client.post("/admin/login/", {"username": "root", "password": "pw-for-tests-1"}, REMOTE_ADDR="192.0.2.20")
    assert response.status_code == 429


def test_behind_a_proxy_the_lockout_and_the_api_see_the_same_client_address(client, viewer_user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.9")
    assert client_address(request) == "198.51.100.9" == BaseThrottle().get_ident(request)

    proxy = {"address": "10.0.0.1"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "viewer", "wrong-password", **proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert sign_in(client, "viewer", "pw-for-tests-1", **proxy, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    # Another client behind the same proxy is another address.
    response = sign_in(client.__class__(), "viewer", "pw-for-tests-1", **proxy, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert response.status_code == 302


def test_the_admin_lists_the_sign_in_attempts(superuser_client):
    html = superuser_client.get("/admin/").content.decode()
    assert "Access attempts" in html and "Access failures" in html


# --- Sessions and passwords --------------------------------------------------------------------------------------


def test_signing_in_starts_a_new_session(client, viewer_user):
    before = client.session  # the test client's session, saved with its cookie
    before["seen"] = True
    before.save()
    old_key = before.session_key
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == old_key

    response = sign_in(client, "viewer", "pw-for-tests-1")
    assert response.status_code == 302
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != old_key
    assert not SessionStore().exists(old_key)  # the old key is gone, not merely unused
    assert client.session["_auth_user_id"] == str(viewer_user.pk)


def test_a_session_ends_after_eight_hours(client, viewer_user):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    response = sign_in(client, "viewer", "pw-for-tests-1")
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 8 * 3600
    assert client.get("/").status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=8, minutes=1)):
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("weak", ["short-pw1", "password1234", "123456789012", "viewer@example.org"])
def test_weak_passwords_are_refused(viewer_user, weak):
    with pytest.raises(ValidationError):
        password_validation.validate_password(weak, user=viewer_user)


def test_a_long_passphrase_is_accepted_and_the_minimum_is_twelve(viewer_user):
    password_validation.validate_password("orbit-lantern-quietly-42", user=viewer_user)
    with pytest.raises(ValidationError, match="at least 12 characters"):
        password_validation.validate_password("k7#Qz!m2Lp9", user=viewer_user)  # 11 characters


# --- API tokens -------------------------------------------------------------------------------------------------


def token_request(token: str, address: str, path: str = "/api/v1/tracks/"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(path, REMOTE_ADDR=address)


def test_failed_tokens_lock_out_their_address_while_good_tokens_elsewhere_still_work(viewer_user):
    _token, good = api_token_create(actor=viewer_user, user=viewer_user, name="sync", days=30)
    guesser, partner = "192.0.2.50", "198.51.100.60"
    # Failures count on every API address that reads a token, including those outside the viewsets (the API root,
    # users/me). The OpenAPI document is a static file that reads no token: it answers anyone alike, so it tells a
    # guesser nothing and counts nothing.
    assert token_request(f"ppt_{8:064d}", guesser, "/api/v1/schema/").status_code == 200
    paths = ["/api/v1/tracks/", "/api/v1/", "/api/v1/users/me/", "/api/v1/countries/", "/api/v1/status/"]
    assert [token_request(f"ppt_{i:064d}", guesser, path).status_code for i, path in enumerate(paths)] == [401] * 5

    refused = token_request(f"ppt_{9:064d}", guesser)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 14 * 60
    assert "Too many failed token attempts" in refused.json()["errors"][0]["detail"]
    # From the locked address even a good token is not looked at...
    assert token_request(good, guesser).status_code == 429
    # ...while the same good token from elsewhere works, and sessions are not affected.
    assert token_request(good, partner).status_code == 200

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        assert token_request(good, guesser).status_code == 200
