"""The signed unsubscribe link of every e-mail: a confirmation page, a POST that stops e-mail, no sign-in needed."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications.emails import unsubscribe_token
from notifications.models import Preference
from tests import factories

from .support import move, prefer, subscribe

pytestmark = pytest.mark.django_db

INVALID = "This unsubscribe link is not valid (it may be incomplete or too old)."


@pytest.fixture
def csrf_client():
    """A mail client or browser without a session: CSRF checks on, no sign-in."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def reader(db):
    user = factories.viewer(username="reader")
    prefer(user, "immediate", language="en")
    return user


def _url(user):
    return reverse("notifications:unsubscribe", args=[unsubscribe_token(user)])


def test_get_shows_a_confirmation_and_changes_nothing(csrf_client, reader):
    response = csrf_client.get(_url(reader))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Stop all e-mail from the portal to reader?" in content
    assert '<form method="post">' in content
    assert Preference.objects.get(user=reader).email_frequency == "immediate"


def test_post_sets_the_preference_to_never_without_sign_in_or_csrf_token(csrf_client, reader):
    response = csrf_client.post(_url(reader))

    assert response.status_code == 200
    assert "No more e-mail will be sent to reader." in response.content.decode()
    pref = Preference.objects.get(user=reader)
    assert (pref.email_frequency, pref.language) == ("never", "en")


def test_one_click_unsubscribe_from_the_link_in_a_real_email(
    csrf_client, reader, gb_partnership, staff_user, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    subscribe(reader, country=gb_partnership.country)
    with django_capture_on_commit_callbacks(execute=True):
        move(staff_user, gb_partnership.country, "exploring")
    (message,) = mail.outbox
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert url in message.body
    assert url.startswith("https://portal.example.org/notifications/unsubscribe/")
    path = url.removeprefix("https://portal.example.org")

    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the URL.
    response = csrf_client.post(path, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert Preference.objects.get(user=reader).email_frequency == "never"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        move(staff_user, gb_partnership.country, "negotiating")
    assert reader.notifications.count() == 2  # the inbox still fills
    assert mail.outbox == []


def test_a_user_without_preference_row_is_unsubscribed_too(csrf_client, db):
    user = factories.viewer(username="nopref")

    csrf_client.post(_url(user))

    assert Preference.objects.get(user=user).email_frequency == "never"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"), id="signature changed"),
        pytest.param(lambda token: token.split(":", 1)[0] + ":" + token.split(":", 1)[1][::-1], id="shuffled"),
        pytest.param(lambda token: "garbage", id="garbage"),
    ],
)
def test_a_tampered_token_gives_400_with_the_invalid_message(csrf_client, reader, tamper):
    token = tamper(unsubscribe_token(reader))
    url = reverse("notifications:unsubscribe", args=[token])

    for response in (csrf_client.get(url), csrf_client.post(url)):
        assert response.status_code == 400
        assert INVALID in response.content.decode()
    assert Preference.objects.get(user=reader).email_frequency == "immediate"


def test_a_token_for_another_purpose_is_refused(csrf_client, reader):
    from django.core import signing

    token = signing.dumps(reader.pk, salt="some.other.purpose")
    response = csrf_client.post(reverse("notifications:unsubscribe", args=[token]))

    assert response.status_code == 400
    assert Preference.objects.get(user=reader).email_frequency == "immediate"


def test_a_token_of_a_deleted_user_gives_400(csrf_client, reader):
    url = _url(reader)
    reader.delete()

    response = csrf_client.get(url)

    assert response.status_code == 400
    assert INVALID in response.content.decode()
