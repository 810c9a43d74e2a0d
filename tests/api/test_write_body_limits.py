"""The cost of a write body is bounded before it is paid: a reader's write is refused before its body is read, a
list longer than its cap is refused before any lookup, and a list within its cap is looked up in one query
(``core.api.fields``). The caps are no lower than real needs: every country on an announcement, 200 people at
one engagement."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from announcements.models import Announcement
from countries import services as country_services
from countries.api.fields import MAX_COUNTRIES
from countries.models import Counterpart, Country
from engagements.api.serializers import MAX_COUNTERPARTS, MAX_FOLLOW_UPS
from engagements.models import Engagement, FollowUp
from tests import factories

from .test_bad_input import assert_error

API = "/api/v1"


def queries_on(captured, table: str) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if f'"{table}"' in q["sql"]]  # noqa: S608 - read only


@pytest.fixture
def codes(db):
    return list(Country.objects.order_by("iso2").values_list("iso2", flat=True))


def test_every_country_there_is_fits_on_an_announcement(codes):
    assert len(codes) >= 249
    assert len(codes) <= MAX_COUNTRIES
    assert MAX_COUNTERPARTS >= 100


def test_a_readers_write_is_refused_before_its_body_is_read(viewer_api, codes):
    body = {"title": "Everywhere", "countries": [code.lower() for code in codes] * 40}  # 10,000 codes
    with CaptureQueriesContext(connection) as captured:
        response = viewer_api.post(f"{API}/announcements/", body, format="json")
    assert_error(response, 403, error_type="client_error")
    assert "does not change it" in response.json()["errors"][0]["detail"]
    assert queries_on(captured, "countries_country") == []
    assert len(captured) <= 4  # the token (when not cached), its user's groups: nothing about the body
    assert not Announcement.objects.exists()


def test_a_list_over_its_cap_is_refused_before_any_lookup(staff_api, codes):
    body = {"title": "Too many", "countries": (codes * 2)[: MAX_COUNTRIES + 1]}
    with CaptureQueriesContext(connection) as captured:
        response = staff_api.post(f"{API}/announcements/", body, format="json")
    assert_error(response, 400, attr="countries", code="too_many")
    assert response.json()["errors"][0]["detail"] == f"At most {MAX_COUNTRIES} items."
    assert queries_on(captured, "countries_country") == []
    assert not Announcement.objects.exists()


def test_every_country_costs_no_more_queries_than_one(staff_api, codes):
    def queries_for(countries) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = staff_api.post(f"{API}/announcements/", {"title": "Somewhere", "countries": countries}, format="json")
        assert response.status_code == 201, response.content
        return len(captured)

    queries_for(["gb"])  # the token is cached from here on
    assert queries_for(codes) == queries_for(["fr"])
    assert Announcement.objects.order_by("-pk").first().countries.count() == 1
    assert Announcement.objects.filter(countries__iso2="ZW").count() == 1


def test_a_malformed_or_unknown_item_is_named_and_nothing_is_written(staff_api):
    response = staff_api.post(f"{API}/announcements/", {"title": "x", "countries": ["gb", "ß"]}, format="json")
    assert_error(response, 400, attr="countries")
    response = staff_api.post(f"{API}/announcements/", {"title": "x", "countries": ["gb", "zz"]}, format="json")
    assert_error(response, 400, attr="countries", code="does_not_exist")
    assert not Announcement.objects.exists()


@pytest.fixture
def people(db, gb_liaison):
    gb = factories.country("GB")
    return [
        country_services.counterpart_create(actor=gb_liaison, country=gb, name=f"Delegate {i}", title="Adviser")
        for i in range(MAX_COUNTERPARTS)
    ]


def engagement_body(**extra):
    return {"country": "gb", "occurred_on": timezone.localdate().isoformat(), "kind": "visit", "summary": "Met", **extra}


def test_the_people_met_are_capped_and_cost_no_more_queries_than_one(gb_api, people):
    ids = [person.pk for person in people]
    response = gb_api.post(f"{API}/engagements/", engagement_body(counterparts=[*ids, ids[0]]), format="json")
    assert_error(response, 400, attr="counterparts", code="too_many")
    assert not Engagement.objects.exists()

    def queries_for(counterparts) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = gb_api.post(f"{API}/engagements/", engagement_body(counterparts=counterparts), format="json")
        assert response.status_code == 201, response.content
        return len(captured)

    queries_for(ids[:1])  # the first engagement of the country: its rollup and versions start here
    assert queries_for(ids) == queries_for(ids[1:2])
    assert Engagement.objects.order_by("pk")[1].counterparts.count() == MAX_COUNTERPARTS


def test_follow_ups_are_capped_and_their_owners_looked_up_once(gb_api, gb_liaison):
    other = factories.liaison("GB", username="gb-second")
    follow_ups = [{"description": f"Step {i}", "due_on": "2030-01-01", "owner": (gb_liaison if i % 2 else other).username,
                   "track": "workforce"} for i in range(MAX_FOLLOW_UPS)]  # fmt: skip
    response = gb_api.post(f"{API}/engagements/", engagement_body(follow_ups=[*follow_ups, follow_ups[0]]), format="json")
    assert_error(response, 400, attr="follow_ups.non_field_errors", code="max_length")
    assert not Engagement.objects.exists()
    with CaptureQueriesContext(connection) as captured:
        response = gb_api.post(f"{API}/engagements/", engagement_body(follow_ups=follow_ups), format="json")
    assert response.status_code == 201, response.content
    user_table = get_user_model()._meta.db_table
    owner_lookups = [q for q in queries_on(captured, user_table) if "username" in q and " IN (" in q]
    assert len(owner_lookups) == 1
    assert FollowUp.objects.count() == MAX_FOLLOW_UPS


@pytest.mark.parametrize("value", [1.5, "1.5", True, "1e0", [1], {"id": 1}, -1, 2**64])
def test_an_id_is_a_whole_number_and_nothing_else(gb_api, value):
    engagement = gb_api.post(f"{API}/engagements/", engagement_body(), format="json").json()
    assert engagement["id"] == 1 or Engagement.objects.filter(pk=engagement["id"]).exists()
    body = {"country": "gb", "description": "Send the paper", "due_on": "2030-01-01", "engagement": value}
    response = gb_api.post(f"{API}/follow-ups/", body, format="json")
    assert_error(response, 400, attr="engagement")
    assert not FollowUp.objects.exists()


def test_an_id_as_digits_is_taken(gb_api):
    engagement = gb_api.post(f"{API}/engagements/", engagement_body(), format="json").json()
    body = {"country": "gb", "description": "Send the paper", "due_on": "2030-01-01", "engagement": str(engagement["id"])}
    assert gb_api.post(f"{API}/follow-ups/", body, format="json").status_code == 201


def test_the_schema_gives_each_cap(staff_api):
    schema = staff_api.get(f"{API}/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    assert components["AnnouncementCreateRequest"]["properties"]["countries"]["maxItems"] == MAX_COUNTRIES
    assert components["EngagementCreateRequest"]["properties"]["counterparts"]["maxItems"] == MAX_COUNTERPARTS
    assert components["EngagementCreateRequest"]["properties"]["follow_ups"]["maxItems"] == MAX_FOLLOW_UPS
    assert Counterpart.objects.count() == 0


# --- loose values: dates and times say what they mean ----------------------------------------------


@pytest.mark.parametrize("due_on", ["0001-01-01", "9999-12-31", "1989-12-31", "2101-01-01"])
def test_a_due_date_outside_the_programmes_years_is_refused(gb_api, due_on):
    body = {"country": "gb", "description": "Send the paper", "due_on": due_on}
    response = gb_api.post(f"{API}/follow-ups/", body, format="json")
    assert_error(response, 400, attr="due_on", code="out_of_range")
    assert not FollowUp.objects.exists()


@pytest.fixture
def draft(staff_user):
    from announcements.services import announcement_create

    return announcement_create(actor=staff_user, title="Kenya joins", countries=[factories.country("KE")], tracks=[])


@pytest.mark.parametrize(
    ("embargo", "code"),
    [("2030-01-01T09:00:00", "naive"), ("2030-01-01 09:00", "naive"), ("9999-12-31T09:00:00Z", "out_of_range"),
     ("0001-01-01T00:00:00+00:00", "out_of_range")],
)  # fmt: skip
def test_an_embargo_needs_its_time_zone_and_a_plausible_year(staff_api, draft, embargo, code):
    response = staff_api.post(f"{API}/announcements/{draft.pk}/schedule/", {"embargo_until": embargo}, format="json")
    assert_error(response, 400, attr="embargo_until", code=code)
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert draft.embargo_until is None


def test_an_embargo_with_its_time_zone_is_taken(staff_api, draft):
    response = staff_api.post(
        f"{API}/announcements/{draft.pk}/schedule/", {"embargo_until": "2030-01-01T09:00:00+01:00"}, format="json"
    )
    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert draft.embargo_until.isoformat() == "2030-01-01T08:00:00+00:00"


def test_an_impossible_time_is_invalid_not_a_server_error(staff_api, draft):
    response = staff_api.post(f"{API}/announcements/{draft.pk}/schedule/", {"embargo_until": "2030-01-01T09:61"}, format="json")
    assert_error(response, 400, attr="embargo_until", code="invalid")


# --- the status filters say what they take ---------------------------------------------------------


def test_the_status_filters_refuse_what_they_do_not_know_and_say_what_they_take(staff_api, staff_user):
    from partnerships.rollup import rollup_countries
    from partnerships.services import partnership_create

    partnership_create(actor=staff_user, country=factories.country("GB"))
    rollup_countries()
    body = assert_error(staff_api.get(f"{API}/status/", {"region": "europe"}), 400, attr="region", code="invalid_choice")
    assert "150 (Europe)" in body["errors"][0]["detail"]
    body = assert_error(staff_api.get(f"{API}/status/", {"track": "workforse"}), 400, attr="track", code="invalid_choice")
    assert "/api/v1/tracks/" in body["errors"][0]["detail"]
    assert staff_api.get(f"{API}/status/", {"track": "workforce", "region": "150"}).json()["count"] == 1
    schema = staff_api.get(f"{API}/schema/", HTTP_ACCEPT="application/json").json()
    names = {p["name"] for p in schema["paths"]["/api/v1/status/"]["get"]["parameters"]}
    assert {"region", "track", "stage", "health"} <= names


def test_an_over_long_list_is_refused_before_any_field_is_looked_up(gb_api, people):
    """The country, the tracks and the follow-ups' owners are not read when another list is over its cap."""
    ids = [person.pk for person in people]
    follow_ups = [{"description": "Step", "due_on": "2030-01-01", "owner": "gb-liaison", "track": "workforce"}]
    body = engagement_body(tracks=["workforce", "safety_standards"], counterparts=[*ids, ids[0]], follow_ups=follow_ups)
    gb_api.post(f"{API}/engagements/", engagement_body(), format="json")  # the token, the user and the rollup warm
    tables = ("countries_country", "partnerships_track", "countries_counterpart", get_user_model()._meta.db_table)
    with CaptureQueriesContext(connection) as captured:
        response = gb_api.post(f"{API}/engagements/", body, format="json")
    assert_error(response, 400, attr="counterparts", code="too_many")
    looked_up = [q["sql"] for q in captured.captured_queries if any(f'"{table}"' in q["sql"] for table in tables)]
    assert looked_up == []


@pytest.mark.parametrize(
    "method, path, body, attr, code",
    [
        ("post", "/announcements/", {"title": "x", "countries": ["gb"], "facilities": list(range(1, 102))},
         "facilities", "too_many"),
        ("post", "/engagements/", {**engagement_body(), "follow_ups": [{"description": "x", "due_on": None}] * 51},
         "follow_ups.non_field_errors", "max_length"),
        ("post", "/agreements/", {"country": "gb", "kind": "mou", "title": "x", "signed_on": "2026-01-01",
                                  "tracks": ["workforce"] * 101}, "tracks", "too_many"),
    ],
)  # fmt: skip
def test_every_write_body_counts_its_lists_before_its_lookups(method, path, body, attr, code, staff_api):
    """An over-long list named after fields that look rows up is refused before those look-ups run."""
    staff_api.get(f"{API}/status/")  # the token and the user warm
    tables = ("countries_country", "partnerships_track", "countries_counterpart", "infrastructure_facility")
    with CaptureQueriesContext(connection) as captured:
        response = getattr(staff_api, method)(f"{API}{path}", body, format="json")
    assert_error(response, 400, attr=attr, code=code)
    looked_up = [q["sql"] for q in captured.captured_queries if any(f'"{table}"' in q["sql"] for table in tables)]
    assert looked_up == []
