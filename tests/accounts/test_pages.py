"""The users list and a user's page (programme staff), and each user's own account page."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from accounts.models import SignedInSession
from accounts.sessions import describe_user_agent
from core import catalogue, roles
from core.models import Event
from tests import factories

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
    "Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def rows(response) -> list[str]:
    return [u.get_username() for u in response.context["users"]]


def test_the_list_shows_role_countries_tokens_and_status(staff_client, gb_liaison, viewer_user, invite):
    factories.token_and_api_client(gb_liaison)
    factories.token_and_api_client(gb_liaison, name="second")
    invitation, _token = invite(email="invited@example.gov", countries=("FR",))
    response = staff_client.get(reverse("users"))
    assert response.status_code == 200
    people = {u.get_username(): u for u in response.context["users"]}
    assert people["gb-liaison"].live_tokens == 2 and [c.iso2 for c in people["gb-liaison"].countries] == ["GB"]
    assert people["gb-liaison"].status == "active" and people["invited@example.gov"].status == "invited"
    assert people["viewer"].role == roles.VIEWER
    html = response.content.decode()
    assert "United Kingdom" in html and "Invited" in html
    assert "Second factor" in html  # the placeholder column: "—" until two-factor authentication lands


def test_search_and_filters(staff_client, gb_liaison, fr_liaison, viewer_user):
    gb_liaison.first_name, gb_liaison.last_name = "Grace", "Hopper"
    gb_liaison.save()
    assert rows(staff_client.get(reverse("users"), {"who": "hopper"})) == ["gb-liaison"]
    assert rows(staff_client.get(reverse("users"), {"who": "fr-liaison@example"})) == ["fr-liaison"]
    assert sorted(rows(staff_client.get(reverse("users"), {"role": roles.LIAISON}))) == ["fr-liaison", "gb-liaison"]
    assert rows(staff_client.get(reverse("users"), {"country": "fr"})) == ["fr-liaison"]
    assert rows(staff_client.get(reverse("users"), {"role": roles.VIEWER})) == ["viewer"]
    services.user_deactivate(actor=factories.UserFactory(username="root", is_superuser=True), user=viewer_user)
    assert rows(staff_client.get(reverse("users"), {"status": "deactivated"})) == ["viewer"]
    empty = staff_client.get(reverse("users"), {"who": "nobody-has-this-name"})
    assert empty.status_code == 200 and b"No user matches these filters" in empty.content


def test_the_list_is_paginated_and_its_queries_do_not_grow_with_rows(staff_client, staff_user):
    def queries(count):
        with CaptureQueriesContext(connection) as ctx:
            response = staff_client.get(reverse("users"))
        assert response.status_code == 200
        return len(ctx)

    for n in range(3):
        factories.liaison("GB", username=f"few-{n}")
    queries(3)  # the first page of a session also reads what later pages find in the cache
    few = queries(3)
    for n in range(60):
        factories.liaison("FR", "DE", username=f"many-{n:02}")
    assert queries(60) == few
    page = staff_client.get(reverse("users"))
    assert len(page.context["users"]) == 50 and page.context["page"].paginator.num_pages == 2
    assert b"Page 1 of 2" in page.content


def test_ordering_by_last_sign_in(staff_client, staff_user, gb_liaison, viewer_user):
    Client().force_login(gb_liaison)
    ordered = rows(staff_client.get(reverse("users"), {"ordering": "-last_login"}))
    assert ordered.index("gb-liaison") < ordered.index("viewer")


def test_a_users_page(staff_client, gb_liaison):
    response = staff_client.get(reverse("user-detail", args=[gb_liaison.pk]))
    assert response.status_code == 200
    assert b"Deactivate" in response.content and b"Save role and countries" in response.content
    assert staff_client.get(reverse("user-detail", args=[999999])).status_code == 404


def test_staff_see_their_own_page_without_the_controls_that_would_lock_them_out(staff_client, staff_user):
    response = staff_client.get(reverse("user-detail", args=[staff_user.pk]))
    assert b"cannot deactivate your own account" in response.content
    assert b"cannot change your own role" in response.content


def test_the_account_page_lists_sessions_and_signs_out_the_others(staff_user):
    laptop, phone = Client(HTTP_USER_AGENT=FIREFOX), Client(HTTP_USER_AGENT=IPHONE, REMOTE_ADDR="198.51.100.7")
    for browser in (laptop, phone):  # through the sign-in page, as a person does
        signed_in = browser.post(reverse("login"), {"username": staff_user.username, "password": "pw-for-tests-1"})
        assert signed_in.status_code == 302
    page = laptop.get(reverse("account"))
    html = page.content.decode()
    assert "Firefox 128 on Windows" in html and "Mobile Safari 17 on iOS (iPhone)" in html
    assert "198.51.100.7" in html and "this browser" in html
    assert reverse("api-tokens") in html and reverse("calendar-feeds") in html
    assert 'id="second-factor-title"' in html

    response = laptop.post(reverse("account-sign-out-others"))
    assert response.status_code == 302
    assert phone.get(reverse("home")).status_code == 302  # signed out
    assert laptop.get(reverse("home")).status_code == 200  # still signed in
    assert SignedInSession.objects.filter(user=staff_user).count() == 1
    assert Event.objects.get(kind=catalogue.USER_SESSIONS_ENDED).payload == {"sessions": 1}


def test_signing_out_forgets_the_session(client, gb_liaison):
    client.force_login(gb_liaison)
    assert SignedInSession.objects.filter(user=gb_liaison).count() == 1
    client.post(reverse("logout"))
    assert SignedInSession.objects.filter(user=gb_liaison).count() == 0


def test_a_session_is_recorded_when_it_is_used(client, gb_liaison):
    client.force_login(gb_liaison)
    SignedInSession.objects.all().delete()  # as if it was signed in before sessions were recorded
    session = client.session
    session.pop("_accounts_seen", None)
    session.save()
    client.get(reverse("home"), HTTP_USER_AGENT=FIREFOX)
    assert SignedInSession.objects.get(user=gb_liaison).user_agent == FIREFOX


def test_browsers_are_described_for_people():
    assert describe_user_agent("") == "Unknown browser"
    assert describe_user_agent("curl/8.5.0").startswith("curl")


def test_a_session_ended_by_someone_else_signing_in_is_not_listed(client, gb_liaison, fr_liaison):
    client.force_login(gb_liaison)
    client.force_login(fr_liaison)  # the same browser: Django ends the first session without a sign-out
    other = Client()
    other.force_login(gb_liaison)
    page = other.get(reverse("account"))
    assert len(page.context["sessions"]) == 1 and page.context["other_sessions"] == 0


def test_the_list_and_a_users_page_show_the_second_factors_each_has(staff_client, gb_liaison, viewer_user):
    from tests.core.test_second_factors import with_app

    with_app(gb_liaison)
    listed = staff_client.get(reverse("users")).content.decode()
    row = next(line for line in listed.split("<tr")[1:] if "gb-liaison" in line)
    assert "Authenticator app" in row
    other = next(line for line in listed.split("<tr")[1:] if "viewer" in line)
    assert "Authenticator app" not in other and "—" in other
    assert b"Authenticator app" in staff_client.get(reverse("user-detail", args=[gb_liaison.pk])).content
