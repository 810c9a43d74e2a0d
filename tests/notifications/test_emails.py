"""The immediate e-mail: text and HTML parts, an unsubscribe link and header, the sentence, in the reader's language."""

import pytest
from django.core import mail
from django.urls import reverse

from notifications.emails import user_from_token
from notifications.models import EmailDelivery
from tests import factories

from .support import move, prefer, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def follower(gb):
    user = factories.viewer(username="follower", first_name="Ada", last_name="Lovelace")
    subscribe(user, country=gb)
    return user


def _sent_after_move(actor, country, capture):
    with capture(execute=True):
        move(actor, country, "exploring")
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def test_an_immediate_email_has_text_and_html_an_unsubscribe_link_and_the_sentence(
    gb_partnership, follower, staff_user, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://portal.example.org/"
    prefer(follower, "immediate")

    message = _sent_after_move(staff_user, gb_partnership.country, django_capture_on_commit_callbacks)

    sentence = "United Kingdom · Workforce training moved from “Not started” to “Exploring”."
    # The token is signed with a timestamp, so it is read back from the header rather than recomputed.
    unsubscribe_url = message.extra_headers["List-Unsubscribe"].strip("<>")
    prefix = "https://portal.example.org" + reverse("notifications:unsubscribe", args=["TOKEN"]).removesuffix("TOKEN/")
    assert unsubscribe_url.startswith(prefix)
    assert user_from_token(unsubscribe_url.removeprefix(prefix).rstrip("/")) == follower
    assert message.to == ["follower@example.org"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "AI Partnership Programme: a new notification"
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe_url}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hello Ada Lovelace," in message.body
    assert sentence in message.body
    assert unsubscribe_url in message.body
    assert "https://portal.example.org/notifications/" in message.body

    assert len(message.alternatives) == 1
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert '<html lang="en">' in html
    assert f"<li>{sentence}</li>" in html
    assert f'<a href="{unsubscribe_url}">Stop these e-mails</a>' in html

    raw = message.message()  # the MIME message as it leaves: multipart/alternative with the header
    assert raw.get_content_type() == "multipart/alternative"
    assert raw["List-Unsubscribe"] == f"<{unsubscribe_url}>"


def test_an_immediate_email_in_french(gb_partnership, follower, staff_user, django_capture_on_commit_callbacks):
    prefer(follower, "immediate", language="fr")

    message = _sent_after_move(staff_user, gb_partnership.country, django_capture_on_commit_callbacks)

    sentence = "Royaume-Uni · Formation de la main-d'œuvre est passé de « Pas commencé » à « Exploration »."
    assert message.subject == "Programme de partenariats en IA : une nouvelle notification"
    assert "Bonjour Ada Lovelace," in message.body
    assert sentence in message.body
    assert "Ne plus recevoir ces courriels :" in message.body
    html = message.alternatives[0][0]
    assert '<html lang="fr">' in html
    assert "Royaume-Uni · Formation de la main-d&#x27;œuvre est passé de « Pas commencé » à « Exploration »." in html


def test_the_language_of_one_email_does_not_leak_into_the_next(
    gb_partnership, follower, staff_user, django_capture_on_commit_callbacks
):
    english = factories.viewer(username="english")
    subscribe(english, country=gb_partnership.country)
    prefer(english, "immediate", language="en")
    prefer(follower, "immediate", language="fr")

    with django_capture_on_commit_callbacks(execute=True):
        move(staff_user, gb_partnership.country, "exploring")

    by_user = {m.to[0]: m for m in mail.outbox}
    assert by_user["follower@example.org"].subject.startswith("Programme de partenariats en IA")
    assert by_user["english@example.org"].subject == "AI Partnership Programme: a new notification"
    assert "United Kingdom · Workforce training moved" in by_user["english@example.org"].body


@pytest.mark.parametrize("frequency", ["daily", "weekly", "never"])
def test_other_frequencies_get_no_immediate_email(
    gb_partnership, follower, staff_user, frequency, django_capture_on_commit_callbacks
):
    prefer(follower, frequency)

    with django_capture_on_commit_callbacks(execute=True):
        move(staff_user, gb_partnership.country, "exploring")

    assert follower.notifications.count() == 1
    assert not EmailDelivery.objects.exists()
    assert mail.outbox == []


def test_a_user_without_preference_row_gets_no_immediate_email(
    gb_partnership, follower, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        move(staff_user, gb_partnership.country, "exploring")

    assert follower.notifications.count() == 1
    assert mail.outbox == []
