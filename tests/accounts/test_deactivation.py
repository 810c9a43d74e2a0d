"""Deactivation shuts a user out at once: sessions ended, API tokens and calendar feeds revoked."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Invitation, SignedInSession
from core import catalogue
from core.models import ApiToken, Event
from notifications.models import CalendarFeed
from notifications.services import calendar_feed_create
from tests import factories

pytestmark = pytest.mark.django_db

User = get_user_model()
SESSION_ENGINES = ["django.contrib.sessions.backends.db", "core.sessions"]


def signed_in(user, agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    client.force_login(user)
    return client


@pytest.mark.parametrize("engine", SESSION_ENGINES)
def test_deactivation_signs_every_browser_out_and_refuses_every_token_at_once(
    engine, settings, staff_user, gb_liaison, django_capture_on_commit_callbacks
):
    settings.SESSION_ENGINE = engine
    laptop, phone = signed_in(gb_liaison), signed_in(gb_liaison, agent="Mozilla/5.0 (iPhone) Mobile Safari")
    assert laptop.get(reverse("home")).status_code == 200 and phone.get(reverse("home")).status_code == 200
    assert SignedInSession.objects.filter(user=gb_liaison).count() == 2
    _token, api = factories.token_and_api_client(gb_liaison)
    assert api.get("/api/v1/users/me/").status_code == 200  # and now cached (core.api.auth_cache)
    feed, secret = calendar_feed_create(actor=gb_liaison, name="Outlook", scope="mine")
    assert Client().get(reverse("calendar-feed", args=[secret])).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        ended = services.user_deactivate(actor=staff_user, user=gb_liaison)

    assert ended == {"sessions": 2, "tokens": 1}
    assert api.get("/api/v1/users/me/").status_code == 401
    for browser in (laptop, phone):
        response = browser.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert SignedInSession.objects.filter(user=gb_liaison).count() == 0
    assert not ApiToken.objects.filter(user=gb_liaison).exists()
    assert Client().get(reverse("calendar-feed", args=[secret])).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is not None  # revoked by the notifications handler of user.deactivated
    event = Event.objects.get(kind=catalogue.USER_DEACTIVATED)
    assert event.actor == staff_user and event.payload == {"sessions": 2, "tokens": 1}


def test_the_sessions_are_gone_from_the_session_store(staff_user, gb_liaison):
    browser = signed_in(gb_liaison)
    key = browser.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    services.user_deactivate(actor=staff_user, user=gb_liaison)
    assert not Session.objects.filter(session_key=key).exists()


def test_the_page_deactivates_and_reactivates(client, staff_user, gb_liaison, django_capture_on_commit_callbacks):
    victim = signed_in(gb_liaison)
    factories.token_and_api_client(gb_liaison)
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("user-deactivate", args=[gb_liaison.pk]))
    assert response.status_code == 302
    gb_liaison.refresh_from_db()
    assert not gb_liaison.is_active
    assert victim.get(reverse("home")).status_code == 302
    page = client.get(reverse("user-detail", args=[gb_liaison.pk]))
    assert b"Deactivated" in page.content and b"Reactivate" in page.content

    assert client.post(reverse("user-reactivate", args=[gb_liaison.pk])).status_code == 302
    gb_liaison.refresh_from_db()
    assert gb_liaison.is_active
    assert not ApiToken.objects.filter(user=gb_liaison).exists()  # tokens stay revoked
    assert victim.get(reverse("home")).status_code == 302  # and the old session stays ended
    assert signed_in(gb_liaison).get(reverse("home")).status_code == 200  # a new sign-in works
    assert Event.objects.filter(kind=catalogue.USER_REACTIVATED, actor=staff_user).exists()


def test_deactivation_and_reactivation_are_audited(staff_user, gb_liaison):
    factories.token_and_api_client(gb_liaison)
    services.user_deactivate(actor=staff_user, user=gb_liaison)
    changes = [e.changes_dict for e in LogEntry.objects.get_for_object(gb_liaison).filter(action=LogEntry.Action.UPDATE)]
    assert {"is_active": ["True", "False"]} in changes
    assert LogEntry.objects.filter(
        content_type__app_label="core", content_type__model="apitoken", action=LogEntry.Action.DELETE
    ).exists()


def test_nobody_deactivates_themselves(staff_user):
    with pytest.raises(ValidationError, match="your own account"):
        services.user_deactivate(actor=staff_user, user=staff_user)
    staff_user.refresh_from_db()
    assert staff_user.is_active


def test_the_last_administrator_stays(staff_user):
    from accounts import policies

    admin = factories.UserFactory(username="root", is_superuser=True)
    other_admin = factories.UserFactory(username="root2", is_superuser=True)
    assert policies.deactivation_refusal(admin, other_admin) is None
    services.user_deactivate(actor=admin, user=other_admin)
    # Only an administrator may deactivate one, never themselves: so the last one is refused whoever asks.
    assert "last active administrator" in policies.deactivation_refusal(other_admin, admin)
    with pytest.raises(ValidationError, match="your own account"):
        services.user_deactivate(actor=admin, user=admin)
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=staff_user, user=admin)
    admin.refresh_from_db()
    assert admin.is_active


def test_staff_do_not_deactivate_an_administrator(staff_user):
    admin = factories.UserFactory(username="root", is_superuser=True)
    factories.UserFactory(username="root2", is_superuser=True)
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=staff_user, user=admin)


def test_a_liaison_does_not_deactivate_anyone(gb_liaison, fr_liaison):
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=gb_liaison, user=fr_liaison)
    fr_liaison.refresh_from_db()
    assert fr_liaison.is_active


def test_deactivating_an_invited_person_withdraws_the_link(client, invite, staff_user):
    from .conftest import link_in_last_email, path_of

    invitation, _token = invite()
    services.user_deactivate(actor=staff_user, user=invitation.user)
    assert Invitation.objects.get(pk=invitation.pk).withdrawn_at is not None
    response = client.post(
        path_of(link_in_last_email()), {"new_password1": "a long passphrase 42", "new_password2": "a long passphrase 42"}
    )
    assert response.status_code == 410
    assert not User.objects.get(pk=invitation.user_id).is_active


def test_a_user_already_deactivated_is_refused(staff_user, gb_liaison):
    services.user_deactivate(actor=staff_user, user=gb_liaison)
    with pytest.raises(ValidationError, match="already deactivated"):
        services.user_deactivate(actor=staff_user, user=gb_liaison)
    assert CalendarFeed.objects.count() == 0


def test_a_session_that_was_never_recorded_is_signed_out_too(staff_user, gb_liaison):
    """A session from before sessions were recorded (or whose record is lost) cannot be ended by key, but Django
    refuses an inactive user at every request: it is signed out at its next one all the same."""
    browser = signed_in(gb_liaison)
    SignedInSession.objects.all().delete()
    services.user_deactivate(actor=staff_user, user=gb_liaison)
    response = browser.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_page_says_what_was_ended(client, staff_user, gb_liaison):
    signed_in(gb_liaison)
    factories.token_and_api_client(gb_liaison)
    client.force_login(staff_user)
    page = client.post(reverse("user-deactivate", args=[gb_liaison.pk]), follow=True)
    assert b"1 session ended, 1 API token revoked" in page.content
