"""API tokens: hashed at rest, named, expiring, revocable, created on a page or by a command."""

import datetime
import hashlib
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken, Event
from core.services import api_token_create
from tests import factories

pytestmark = pytest.mark.django_db


def token_client(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_token_is_stored_only_as_a_hash(viewer_user):
    token, secret = api_token_create(actor=viewer_user, user=viewer_user, name="dashboard", days=30)
    row = ApiToken.objects.get(pk=token.pk)
    stored = [str(getattr(row, f.attname)) for f in ApiToken._meta.concrete_fields]
    assert all(secret not in value for value in stored)
    assert row.digest == hashlib.sha512(secret.encode()).hexdigest()
    assert row.token_key == secret[:15]
    assert secret.startswith("ppt_") and len(secret) > 60


def test_token_carries_its_users_rights(gb_liaison, gb_partnership):
    _token, secret = api_token_create(actor=gb_liaison, user=gb_liaison, name="ministry sync", days=30)
    client = token_client(secret)
    me = client.get("/api/v1/users/me/").json()
    assert me["username"] == "gb-liaison" and me["roles"] == ["liaison"] and me["countries"] == ["GB"]
    assert me["token"] == "ministry sync"
    ok = client.post(
        "/api/v1/engagements/",
        {"country": "gb", "occurred_on": str(timezone.localdate()), "kind": "call", "summary": "Weekly call"},
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    refused = client.post(
        "/api/v1/engagements/",
        {"country": "FR", "occurred_on": str(timezone.localdate()), "kind": "call", "summary": "Not mine"},
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["detail"] == "You may not change data for France: it is not one of your countries."


def test_wrong_expired_and_revoked_tokens_are_refused(viewer_user):
    token, secret = api_token_create(actor=viewer_user, user=viewer_user, name="short", days=1)
    assert token_client(secret).get("/api/v1/tracks/").status_code == 200
    assert token_client(secret[:-1] + ("0" if secret[-1] != "0" else "1")).get("/api/v1/tracks/").status_code == 401
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        assert token_client(secret).get("/api/v1/tracks/").status_code == 401
    _token2, secret2 = api_token_create(actor=viewer_user, user=viewer_user, name="other", days=30)
    ApiToken.objects.get(name="other").delete()
    assert token_client(secret2).get("/api/v1/tracks/").status_code == 401


def test_last_use_is_recorded(viewer_user):
    token, secret = api_token_create(actor=viewer_user, user=viewer_user, name="poller", days=30)
    assert token.last_used_at is None
    token_client(secret).get("/api/v1/tracks/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_token_names_and_lifetimes_are_validated(viewer_user, staff_user):
    from django.core.exceptions import PermissionDenied, ValidationError

    api_token_create(actor=viewer_user, user=viewer_user, name="sync", days=30)
    with pytest.raises(ValidationError) as err:
        api_token_create(actor=viewer_user, user=viewer_user, name="sync", days=30)
    assert err.value.message_dict == {"name": ["You already have a token called “sync”."]}
    with pytest.raises(ValidationError) as err:
        api_token_create(actor=viewer_user, user=viewer_user, name="  ", days=0)
    assert set(err.value.message_dict) == {"name", "days"}
    with pytest.raises(PermissionDenied):
        api_token_create(actor=staff_user, user=viewer_user, name="for someone else", days=30)
    assert ApiToken.objects.count() == 1


def test_create_api_token_command_prints_a_working_token(viewer_user):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "viewer", "--name", "etl", "--days", "7", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert "Token 'etl' for viewer, expires" in err.getvalue()
    token = ApiToken.objects.get(name="etl")
    assert token.expiry.date() == (timezone.now() + datetime.timedelta(days=7)).date()
    assert token_client(secret).get("/api/v1/users/me/").json()["token"] == "etl"
    assert Event.objects.filter(kind="api_token.created").count() == 1


def test_create_api_token_command_refuses_unknown_users_and_bad_days(viewer_user):
    with pytest.raises(CommandError, match="No active user called 'ghost'"):
        call_command("create_api_token", "ghost", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="days: A token lasts between 1 and 366 days."):
        call_command("create_api_token", "viewer", "--days", "0", stdout=io.StringIO(), stderr=io.StringIO())


def test_token_page_creates_shows_once_and_revokes(client, viewer_user):
    client.force_login(viewer_user)
    page = client.get(reverse("api-tokens"))
    assert page.status_code == 200
    assert "You have no API token yet." in page.content.decode()
    response = client.post(reverse("api-tokens"), {"name": "Ministry dashboard", "days": "30"})
    html = response.content.decode()
    token = ApiToken.objects.get(user=viewer_user)
    secret = html.split('id="new-token-value" class="token-value" type="text" readonly value="')[1].split('"')[0]
    assert secret.startswith(token.token_key)
    assert token_client(secret).get("/api/v1/tracks/").status_code == 200
    # Shown once: the list shows only the first characters afterwards.
    again = client.get(reverse("api-tokens")).content.decode()
    assert secret not in again and token.token_key in again
    revoked = client.post(reverse("api-token-revoke", args=[token.token_key]), follow=True)
    assert "revoked" in revoked.content.decode()
    assert not ApiToken.objects.exists()
    assert token_client(secret).get("/api/v1/tracks/").status_code == 401


def test_token_page_keeps_input_on_error_and_cannot_revoke_others(client, viewer_user, staff_user):
    other, _secret = api_token_create(actor=staff_user, user=staff_user, name="staff tool", days=30)
    client.force_login(viewer_user)
    response = client.post(reverse("api-tokens"), {"name": "My tool", "days": "999"})
    html = response.content.decode()
    assert "Ensure this value is less than or equal to 366." in html
    assert 'value="My tool"' in html
    assert client.post(reverse("api-token-revoke", args=[other.token_key])).status_code == 404
    assert ApiToken.objects.filter(pk=other.pk).exists()


def test_token_page_needs_sign_in(client):
    response = client.get(reverse("api-tokens"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_tokens_are_rate_limited_per_token(low_rate_limits, viewer_user):
    from django.core.cache import cache

    cache.clear()
    _t1, first = api_token_create(actor=viewer_user, user=viewer_user, name="one", days=30)
    _t2, second = api_token_create(actor=viewer_user, user=viewer_user, name="two", days=30)
    codes = [token_client(first).get("/api/v1/tracks/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert token_client(second).get("/api/v1/tracks/").status_code == 200
    anon = [APIClient().get("/api/v1/tracks/").status_code for _ in range(3)]
    assert anon == [401, 401, 429]
    # Guessing tokens from the same address is throttled too.
    cache.clear()
    guesses = [token_client(f"ppt_{i:064d}").get("/api/v1/tracks/").status_code for i in range(3)]
    assert guesses == [401, 401, 429]


def test_staff_user_helper_is_programme_staff():
    assert factories.staff(username="s2").groups.filter(name="programme_staff").exists()
