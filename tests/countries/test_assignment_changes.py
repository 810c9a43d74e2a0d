"""A liaison removed from a country stops seeing it at once: an assignment changed or deleted anywhere (the
admin included) moves the data version, so no cached page of the country's confidential engagements or its
write forms is served again, and the user's cached API tokens are read afresh."""

import datetime

import pytest
from django.test import Client

from countries.models import LiaisonAssignment
from engagements.services import engagement_log
from partnerships.rollup import rollup_countries
from partnerships.services import partnership_create
from tests import factories
from tests.api.conftest import token_client

SECRET = "Budget talks, not for circulation"


@pytest.fixture
def gb(db, staff_user, gb_liaison):
    country = factories.country("GB")
    partnership_create(actor=staff_user, country=country)
    engagement_log(
        actor=gb_liaison, country=country, occurred_on=datetime.date.today(), kind="meeting", summary=SECRET,
        sensitivity="confidential",
    )  # fmt: skip
    rollup_countries()
    return country


def page_as(user) -> Client:
    client = Client()
    client.force_login(user)
    client.get("/")  # the CSRF cookie: from here on the reader's pages are cached
    return client


def sees_the_country(client) -> bool:
    body = client.get("/countries/gb/").content.decode()
    return SECRET in body and "Log an engagement" in body


def test_deleting_the_assignment_in_the_admin_hides_the_cached_country_page(gb, gb_liaison):
    liaison = page_as(gb_liaison)
    assert sees_the_country(liaison)
    assert sees_the_country(liaison)  # now from the page cache
    admin = page_as(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    assignment = LiaisonAssignment.objects.get(user=gb_liaison, country=gb)
    response = admin.post(f"/admin/countries/liaisonassignment/{assignment.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not LiaisonAssignment.objects.filter(pk=assignment.pk).exists()
    assert not sees_the_country(liaison)


@pytest.mark.parametrize("change", ["queryset delete", "moved to another country"])
def test_any_change_to_an_assignment_moves_the_version(gb, gb_liaison, change):
    liaison = page_as(gb_liaison)
    assert sees_the_country(liaison)
    assert sees_the_country(liaison)
    if change == "queryset delete":
        LiaisonAssignment.objects.filter(user=gb_liaison).delete()
    else:
        LiaisonAssignment.objects.filter(user=gb_liaison).update(country=factories.country("FR"))  # no signal here...
        LiaisonAssignment.objects.get(user=gb_liaison).save()  # ...the admin saves the row, which moves it
    assert not sees_the_country(liaison)


def test_an_assignment_added_shows_the_country_at_once(gb, staff_user):
    newcomer = factories.liaison("FR", username="newcomer")
    client = page_as(newcomer)
    assert not sees_the_country(client)
    assert not sees_the_country(client)
    LiaisonAssignment.objects.create(user=newcomer, country=gb)
    assert sees_the_country(client)


def test_the_api_refuses_the_former_liaison_at_once(gb, gb_liaison):
    api = token_client(gb_liaison)
    body = {"country": "gb", "occurred_on": datetime.date.today().isoformat(), "kind": "call", "summary": "Call"}
    assert api.post("/api/v1/engagements/", body, format="json").status_code == 201
    LiaisonAssignment.objects.filter(user=gb_liaison, country=gb).delete()
    assert api.post("/api/v1/engagements/", body, format="json").status_code == 403
