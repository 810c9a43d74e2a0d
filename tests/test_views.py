"""The pages a person sees: login, the home page per role, languages, and their query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries
from partnerships.services import country_track_move, partnership_create
from tests import factories

pytestmark = pytest.mark.django_db

ALL_CODES = [
    "GB",
    "FR",
    "DE",
    "NO",
    "AE",
    "IN",
    "JP",
    "KE",
    "BR",
    "US",
    "CA",
    "MX",
    "ZA",
    "NG",
    "EG",
    "AU",
    "NZ",
    "SG",
    "KR",
    "ID",
]


def build_programme(staff, codes):
    for code in codes:
        partnership_create(actor=staff, country=factories.country(code))
    rollup_countries()


def test_login_page_renders_a_labelled_form(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Sign in</h1>" in html
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html


def test_anonymous_home_redirects_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_signing_in_lands_on_the_home_page(client, staff_user):
    response = client.post(reverse("login"), {"username": "staff", "password": "pw-for-tests-1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Programme pipeline" in response.content.decode()


def test_wrong_password_shows_an_error_and_keeps_the_username(client, staff_user):
    response = client.post(reverse("login"), {"username": "staff", "password": "nope"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a correct username and password" in html
    assert 'value="staff"' in html


def test_user_without_a_role_is_told_so(client):
    user = factories.make_user(None, username="nobody")
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "Your account has no role in the portal yet" in response.content.decode()


def test_staff_home_lists_the_pipeline_with_status(client, staff_user):
    build_programme(staff_user, ["GB", "KE"])
    ct = CountryTrack.objects.get(country__iso2="KE", track__key="workforce")
    country_track_move(actor=staff_user, country_track=ct, to_stage=factories.stage("workforce", "agreed"))
    rollup_countries()
    client.force_login(staff_user)
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert "2 countries in the programme" in html
    assert "Kenya" in html and "United Kingdom" in html
    assert "Agreed" in html
    assert "15.0 %" in html  # KE: agreed = 3 of 5 rungs on one of four tracks


def test_pipeline_search_and_empty_state(client, staff_user):
    build_programme(staff_user, ["GB", "KE"])
    client.force_login(staff_user)
    html = client.get(reverse("home"), {"q": "ken"}).content.decode()
    assert "1 country in the programme" in html and "Kenya" in html and "United Kingdom" not in html
    html = client.get(reverse("home"), {"q": "atlantis"}).content.decode()
    assert "No country in the programme matches “atlantis”." in html


def test_home_with_no_programme_explains_what_to_do(client, viewer_user):
    client.force_login(viewer_user)
    html = client.get(reverse("home")).content.decode()
    assert "No country is in the programme yet." in html


def test_liaison_sees_their_countries_and_follow_ups(client, staff_user, gb_liaison):
    build_programme(staff_user, ["GB", "FR"])
    factories.FollowUpFactory(
        country=factories.country("GB"),
        owner=gb_liaison,
        description="Send the skills framework",
        due_on=timezone.localdate() - datetime.timedelta(days=2),
    )
    client.force_login(gb_liaison)
    html = client.get(reverse("home")).content.decode()
    assert "My countries" in html
    my_section = html.split('id="my-countries"')[1].split('id="my-follow-ups"')[0]
    assert "United Kingdom" in my_section and "France" not in my_section
    assert "Workforce training" in my_section
    assert "Send the skills framework" in html and "Overdue" in html


def test_home_is_translated_to_french(client, staff_user):
    build_programme(staff_user, ["CI"])
    client.force_login(staff_user)
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr")
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Côte d'Ivoire" in html or "Côte d&#x27;Ivoire" in html
    assert "Afrique" in html
    assert "Programme pipeline" not in html


def test_language_switcher_sets_the_language(client, staff_user):
    client.force_login(staff_user)
    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("home")}, follow=True)
    assert '<html lang="fr">' in response.content.decode()


def _home_queries(client, user):
    from django.core.cache import cache

    cache.clear()
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_home_query_count_does_not_grow_with_countries(client, staff_user):
    liaison = factories.liaison("GB", "FR", "DE", username="many")
    build_programme(staff_user, ALL_CODES[:3])
    factories.EngagementFactory(country=factories.country("GB"), summary="First talk")
    small = _home_queries(client, liaison)
    for code in ALL_CODES[3:]:
        factories.make_user(None, username=f"l-{code}")
    build_programme(staff_user, ALL_CODES[3:])
    for code in ALL_CODES[3:]:
        factories.liaison(code, username="many")
    for i in range(20):
        factories.FollowUpFactory(country=factories.country("GB"), owner=liaison, description=f"task {i}")
        factories.EngagementFactory(country=factories.country(ALL_CODES[i % len(ALL_CODES)]), summary=f"talk {i}")
    large = _home_queries(client, liaison)
    assert small == large == 12
