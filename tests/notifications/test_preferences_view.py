"""The notification settings page: frequency, language and what one follows, written as Preference and Subscription rows."""

import pytest
from django.urls import reverse

from notifications.models import Preference, Subscription
from partnerships.services import partnership_create
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("notifications:preferences")


@pytest.fixture
def partners(staff_user, gb_partnership):
    fr = partnership_create(actor=staff_user, country=factories.country("FR")).country
    return gb_partnership.country, fr


@pytest.fixture
def reader(client, db):
    user = factories.viewer(username="reader")
    client.force_login(user)
    return user


def _subscriptions(user):
    return sorted(
        (s.scope, s.country.iso2 if s.country else None, s.track.key if s.track else None)
        for s in Subscription.objects.filter(user=user).select_related("country", "track")
    )


def test_the_page_shows_the_defaults(client, reader, partners):
    response = client.get(URL)

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="email_frequency" value="daily" id="id_email_frequency_1" required checked>' in content
    form = response.context["form"]
    assert form.initial["email_frequency"] == "daily"
    assert form.initial["programme"] is False
    assert {c.iso2 for c in form.fields["countries"].queryset} == {"FR", "GB"}  # only countries in the programme
    assert not Preference.objects.filter(user=reader).exists()


def test_saving_writes_preference_and_subscriptions(client, reader, partners):
    gb, fr = partners
    workforce, data = factories.track("workforce"), factories.track("data_centres")

    response = client.post(
        URL,
        {
            "email_frequency": "weekly",
            "language": "fr",
            "programme": "on",
            "countries": [gb.pk, fr.pk],
            "tracks": [workforce.pk, data.pk],
        },
        follow=True,
    )

    assert response.redirect_chain == [(URL, 302)]
    assert "Your notification settings were saved." in response.content.decode()
    pref = Preference.objects.get(user=reader)
    assert (pref.email_frequency, pref.language) == ("weekly", "fr")
    assert _subscriptions(reader) == [
        ("country", "FR", None),
        ("country", "GB", None),
        ("programme", None, None),
        ("track", None, "data_centres"),
        ("track", None, "workforce"),
    ]
    form = response.context["form"]  # the page shows what was saved
    assert form.initial["email_frequency"] == "weekly"
    assert form.initial["programme"] is True
    assert sorted(form.initial["countries"]) == sorted([gb.pk, fr.pk])
    assert sorted(form.initial["tracks"]) == sorted([workforce.pk, data.pk])


def test_saving_again_removes_what_was_unticked(client, reader, partners):
    gb, fr = partners
    workforce = factories.track("workforce")
    client.post(URL, {"email_frequency": "weekly", "language": "fr", "programme": "on", "countries": [gb.pk, fr.pk]})

    client.post(URL, {"email_frequency": "immediate", "language": "en", "countries": [fr.pk], "tracks": [workforce.pk]})

    pref = Preference.objects.get(user=reader)
    assert (pref.email_frequency, pref.language) == ("immediate", "en")
    assert _subscriptions(reader) == [("country", "FR", None), ("track", None, "workforce")]
    assert Preference.objects.count() == 1


def test_an_invalid_frequency_keeps_the_input_and_shows_the_error(client, reader, partners):
    gb, _fr = partners
    workforce = factories.track("workforce")

    response = client.post(
        URL, {"email_frequency": "hourly", "language": "fr", "programme": "on", "countries": [gb.pk], "tracks": [workforce.pk]}
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert '<p class="field-error">Select a valid choice. hourly is not one of the available choices.</p>' in content
    assert '<option value="fr" selected>' in content
    assert f'<option value="{gb.pk}" selected>' in content
    assert '<input type="checkbox" name="programme" id="id_programme" checked>' in content
    assert f'<input type="checkbox" name="tracks" value="{workforce.pk}" id="id_tracks_0" checked>' in content
    assert 'aria-invalid="true"' in content
    assert not Preference.objects.filter(user=reader).exists()
    assert not Subscription.objects.filter(user=reader).exists()


def test_a_missing_frequency_is_an_error(client, reader, partners):
    response = client.post(URL, {"language": "en"})

    assert response.status_code == 200
    assert '<p class="field-error">This field is required.</p>' in response.content.decode()
    assert not Preference.objects.exists()


def test_a_country_outside_the_programme_is_refused(client, reader, partners):
    germany = factories.country("DE")

    response = client.post(URL, {"email_frequency": "daily", "language": "en", "countries": [germany.pk]})

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not Subscription.objects.exists()


def test_the_settings_page_needs_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_invalid_language_shows_its_error(client, reader, partners):
    response = client.post(URL, {"email_frequency": "daily", "language": "xx"})

    assert response.status_code == 200
    assert not Preference.objects.exists()
    assert "Select a valid choice. xx is not one of the available choices." in response.content.decode()
