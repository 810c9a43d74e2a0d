"""Invitations: an e-mailed link that works once, expires, and stops working when a new one is sent."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from accounts import services
from accounts.models import Invitation
from core import catalogue, roles
from core.models import Event
from countries.selectors import assigned_country_ids

from .conftest import link_in_last_email, path_of

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "a long enough passphrase 42"


def accept(client, path, password=PASSWORD):
    return client.post(path, {"new_password1": password, "new_password2": password})


def test_an_invitation_creates_an_inactive_account_with_its_role_and_countries_and_emails_a_link(invite, staff_user):
    invitation, token = invite()
    user = invitation.user
    assert not user.is_active and not user.has_usable_password()
    assert set(user.groups.values_list("name", flat=True)) == {roles.LIAISON}
    assert assigned_country_ids(user) == {invitation.user.liaison_assignments.get().country_id}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@example.gov"]
    assert token in mail.outbox[0].body
    # Only the digest is stored: the token is nowhere in the database row.
    assert invitation.token_digest == services.token_digest(token) and token not in str(vars(invitation))
    event = Event.objects.get(kind=catalogue.USER_INVITED)
    assert event.actor == staff_user and event.payload == {"role": roles.LIAISON, "countries": ["GB"]}
    assert "new.person" not in str(event.payload)


def test_the_link_sets_the_password_signs_in_and_works_once(client, invite):
    invitation, _token = invite()
    path = path_of(link_in_last_email())
    page = client.get(path)
    assert page.status_code == 200 and b"Set your password" in page.content
    response = accept(client, path)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = User.objects.get(pk=invitation.user_id)
    assert user.is_active and user.check_password(PASSWORD)
    assert client.get(reverse("home")).status_code == 200  # signed in
    assert Event.objects.filter(kind=catalogue.USER_INVITATION_ACCEPTED, actor=user).exists()

    # Used: a clear page, and nothing changes (another password is not set).
    other = client.__class__()
    again = accept(other, path, password="another passphrase of 42")
    assert again.status_code == 410 and b"already been used" in again.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert other.get(path).status_code == 410


def test_the_password_must_pass_djangos_validators(client, invite):
    invitation, _token = invite()
    path = path_of(link_in_last_email())
    response = accept(client, path, password="short")
    assert response.status_code == 400
    invitation.refresh_from_db()
    assert invitation.accepted_at is None and not invitation.user.is_active


def test_an_expired_link_gives_a_clear_page(client, invite, settings):
    invitation, _token = invite()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=invitation.created_at - datetime.timedelta(seconds=1))
    path = path_of(link_in_last_email())
    assert client.get(path).status_code == 410
    response = accept(client, path)
    assert response.status_code == 410 and b"expired" in response.content
    invitation.user.refresh_from_db()
    assert not invitation.user.is_active


def test_the_link_lasts_the_configured_days(invite, settings):
    settings.INVITATION_EXPIRY_DAYS = 3
    invitation, _token = invite()
    assert invitation.expires_at - invitation.created_at == datetime.timedelta(days=3)


def test_an_unknown_link_is_404(client):
    assert client.get(reverse("invitation-accept", args=["not-a-real-token"])).status_code == 404


def test_resending_invalidates_the_earlier_link(client, invite, staff_user, django_capture_on_commit_callbacks):
    invitation, _first = invite()
    first_path = path_of(link_in_last_email())
    with django_capture_on_commit_callbacks(execute=True):
        response = _staff(client, staff_user).post(reverse("user-invitation-resend", args=[invitation.user_id]))
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    second_path = path_of(link_in_last_email())
    assert second_path != first_path
    anonymous = client.__class__()
    refused = accept(anonymous, first_path)
    assert refused.status_code == 410 and b"newer invitation replaced it" in refused.content
    assert accept(anonymous, second_path).status_code == 302
    assert Event.objects.filter(kind=catalogue.USER_INVITATION_RESENT, actor=staff_user).exists()


def test_an_address_that_already_has_an_account_is_refused(invite):
    invite(email="someone@example.gov")
    with pytest.raises(Exception) as refused:
        invite(email="Someone@Example.gov")
    assert "already has an account" in str(refused.value)


def test_only_liaisons_get_countries(invite):
    with pytest.raises(Exception) as refused:
        invite(role=roles.VIEWER, countries=("GB",))
    assert "Only liaisons" in str(refused.value)


def test_the_invite_page_sends_the_invitation(client, staff_user, django_capture_on_commit_callbacks, gb):
    staff = _staff(client, staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("user-invite"),
            {
                "email": "page@example.gov",
                "first_name": "Page",
                "last_name": "Person",
                "role": roles.LIAISON,
                "countries": [gb.pk],
            },  # fmt: skip
        )
    assert response.status_code == 302
    user = User.objects.get(email="page@example.gov")
    assert response["Location"] == reverse("user-detail", args=[user.pk])
    assert assigned_country_ids(user) == {gb.pk}
    assert len(mail.outbox) == 1


def test_invitations_are_audited(invite):
    from auditlog.models import LogEntry

    invitation, token = invite()
    entry = LogEntry.objects.get_for_object(invitation).get()
    assert entry.action == LogEntry.Action.CREATE
    assert "token_digest" not in entry.changes_dict and token not in str(entry.changes)
    assert LogEntry.objects.get_for_object(invitation.user).exists()


def _staff(client, staff_user):
    client.force_login(staff_user)
    return client


def test_the_audit_log_page_shows_invitations(client, invite, staff_user):
    invitation, _token = invite(email="audited@example.gov")
    page = _staff(client, staff_user).get(reverse("audit-log"), {"model": "accounts.invitation"})
    assert page.status_code == 200 and b"audited@example.gov" in page.content
