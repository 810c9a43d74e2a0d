"""The cache of authenticated tokens (core.api.auth_cache): no query to authenticate a repeated call, and
nothing a token may no longer do survives in it - revocation, deactivation, a lost role, expiry."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core import roles
from core.models import ApiToken
from core.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

URL = "/api/v1/tracks/"


def client_with_token(user, days=30):
    token, secret = api_token_create(actor=user, user=user, name="cache test", days=days)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return token, client


def auth_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if "core_apitoken" in q["sql"] or "auth_user" in q["sql"] or "auth_group" in q["sql"]]


def test_a_repeated_call_reads_no_token_user_or_group(viewer_user):
    _token, client = client_with_token(viewer_user)
    with CaptureQueriesContext(connection) as first:
        assert client.get(URL).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(URL).status_code == 200
    assert len(auth_queries(first.captured_queries)) >= 2  # the token (with its user) and the user's groups
    assert auth_queries(second.captured_queries) == []


def test_a_revoked_token_is_refused_at_once(viewer_user):
    token, client = client_with_token(viewer_user)
    assert client.get(URL).status_code == 200
    api_token_revoke(actor=viewer_user, token=token)
    assert client.get(URL).status_code == 401


def test_a_token_deleted_in_the_admin_is_refused_at_once(viewer_user):
    token, client = client_with_token(viewer_user)
    assert client.get(URL).status_code == 200
    ApiToken.objects.get(pk=token.pk).delete()
    assert client.get(URL).status_code == 401


def test_a_deactivated_user_is_refused_at_once(viewer_user):
    _token, client = client_with_token(viewer_user)
    assert client.get(URL).status_code == 200
    viewer_user.is_active = False
    viewer_user.save()
    assert client.get(URL).status_code == 401


def test_a_lost_role_is_seen_at_once_either_side_of_the_membership(viewer_user):
    _token, client = client_with_token(viewer_user)
    assert client.get(URL).status_code == 200
    viewer_user.groups.clear()  # from the user's side
    assert client.get(URL).status_code == 403
    viewer_user.groups.add(Group.objects.get(name=roles.VIEWER))
    assert client.get(URL).status_code == 200
    Group.objects.get(name=roles.VIEWER).user_set.remove(viewer_user)  # from the group's side
    assert client.get(URL).status_code == 403


def test_a_group_renamed_or_emptied_drops_its_members_roles(viewer_user):
    _token, client = client_with_token(viewer_user)
    assert client.get(URL).status_code == 200
    group = Group.objects.get(name=roles.VIEWER)
    group.name = "former viewers"
    group.save()
    assert client.get(URL).status_code == 403
    group.name = roles.VIEWER
    group.save()
    assert client.get(URL).status_code == 200
    group.user_set.clear()
    assert client.get(URL).status_code == 403


def test_a_cached_token_still_expires_on_time(viewer_user):
    token, client = client_with_token(viewer_user, days=1)
    assert client.get(URL).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, seconds=1)):
        assert client.get(URL).status_code == 401
    assert not ApiToken.objects.filter(pk=token.pk).exists()  # an expired token is deleted when presented


def test_the_last_use_is_still_recorded_about_once_a_minute(viewer_user):
    token, client = client_with_token(viewer_user)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert client.get(URL).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        assert client.get(URL).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == start
    later = start + datetime.timedelta(seconds=90)
    with time_machine.travel(later, tick=False):
        assert client.get(URL).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == later


def test_the_cached_user_carries_no_password_hash(viewer_user):
    from django.core.cache import cache
    from knox.crypto import hash_token

    token, secret = api_token_create(actor=viewer_user, user=viewer_user, name="hash", days=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get(URL).status_code == 200
    cached = cache.get(f"api:auth:{hash_token(secret)}")
    assert cached.pk == token.pk
    assert "password" not in cached.user.__dict__  # deferred: never pickled into the cache


def test_the_rate_limit_counts_per_window_and_says_when_to_retry(low_rate_limits, viewer_user):
    _token, client = client_with_token(viewer_user)
    start = datetime.datetime(2026, 11, 25, 10, 0, 10, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        codes = [client.get(URL).status_code for _ in range(4)]
        refused = client.get(URL)
    assert codes == [200, 200, 200, 429]
    assert refused.status_code == 429 and refused["Retry-After"] == "50"  # the window ends at 10:01:00
    with time_machine.travel(start + datetime.timedelta(seconds=50), tick=False):
        assert client.get(URL).status_code == 200  # a new window


def test_a_request_that_read_the_token_before_its_revocation_cannot_cache_it_after(viewer_user):
    from knox.crypto import hash_token

    from core.api import auth_cache

    token, secret = api_token_create(actor=viewer_user, user=viewer_user, name="race", days=1)
    read_before = ApiToken.objects.get(pk=token.pk)  # an in-flight request has read the row...
    api_token_revoke(actor=viewer_user, token=token)  # ...the revocation commits...
    auth_cache.put(read_before)  # ...and that request then tries to cache what it read
    assert auth_cache.get(hash_token(secret)) is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get(URL).status_code == 401
