"""The owner of a country's work (a follow-up, a track's next steps) is someone who works on the country, one rule
for both (``countries.policies.may_own_work``); and an owner refused tells nothing of whether the user name exists."""

import pytest

from countries.policies import OWNER_REFUSED
from partnerships.models import CountryTrack
from partnerships.services import partnership_create
from tests import factories
from tests.api.test_bad_input import assert_error

API = "/api/v1"


@pytest.fixture
def gb_cell(db, staff_user):
    partnership_create(actor=staff_user, country=factories.country("GB"))
    return CountryTrack.objects.get(country__iso2="GB", track__key="workforce")


@pytest.fixture
def others(db):
    return {
        "a viewer": factories.viewer(username="a-viewer").username,
        "another country's liaison": factories.liaison("FR", username="fr-other").username,
        "an inactive liaison": factories.liaison("GB", username="gb-gone", is_active=False).username,
        "nobody": "no-such-user",
    }


@pytest.mark.parametrize("who", ["a viewer", "another country's liaison", "an inactive liaison", "nobody"])
def test_a_track_owner_must_work_on_the_country_and_the_answer_is_the_same_for_everyone_refused(gb_api, gb_cell, others, who):
    response = gb_api.patch(f"{API}/country-tracks/{gb_cell.pk}/", {"owner": others[who]}, format="json")
    body = assert_error(response, 400, attr="owner")
    assert body["errors"][0]["detail"] == OWNER_REFUSED
    gb_cell.refresh_from_db()
    assert gb_cell.owner_id is None


@pytest.mark.parametrize("who", ["a viewer", "another country's liaison", "nobody"])
def test_a_follow_up_owner_is_refused_with_the_same_words(gb_api, others, who):
    body = {"country": "gb", "description": "Send the paper", "due_on": "2030-01-01", "owner": others[who]}
    response = gb_api.post(f"{API}/follow-ups/", body, format="json")
    assert assert_error(response, 400, attr="owner")["errors"][0]["detail"] == OWNER_REFUSED


def test_a_track_owner_who_works_on_the_country_is_taken(gb_api, gb_cell, gb_liaison, staff_user):
    for user in (gb_liaison, staff_user):
        response = gb_api.patch(f"{API}/country-tracks/{gb_cell.pk}/", {"owner": user.username}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["owner"] == user.username
