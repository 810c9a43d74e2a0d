"""Bad input never gives a 500 and changes nothing.

Unknown country codes, malformed dates, page sizes and offsets out of range, unknown filter values,
NUL bytes, 100,000-character strings, wrong content types, invalid JSON and wrong methods: each is
answered with a 4xx in the API's one error shape, ``{"type": ..., "errors": [{"code", "detail",
"attr"}]}``, naming the field where there is one, and a refused write leaves every table as it was.

The tests use the configured database: run them on SQLite and on PostgreSQL (``DATABASE_URL``),
where NUL bytes and out-of-range values reach a stricter server.
"""

import datetime
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db

ON_SQLITE = connection.vendor == "sqlite"
ON_POSTGRES = connection.vendor == "postgresql"

PROGRAMME = ("GB", "FR", "KE")
LONG = "x" * 100_000
NUL = "a\x00b"

# Every table a write through the API can touch, the outbox included.
TABLES = [
    "partnerships.Partnership",
    "partnerships.CountryTrack",
    "partnerships.StageChange",
    "engagements.Engagement",
    "engagements.FollowUp",
    "engagements.Agreement",
    "announcements.Announcement",
    "countries.Counterpart",
    "infrastructure.Facility",
    "infrastructure.CapacityPhase",
    "infrastructure.FacilityPartner",
    "infrastructure.Organisation",
    "core.Event",
]

# List endpoints and the filters they take, as the schema documents them.
LISTS = [
    "countries",
    "partnerships",
    "country-tracks",
    "stage-changes",
    "engagements",
    "follow-ups",
    "counterparts",
    "agreements",
    "announcements",
    "facilities",
    "organisations",
]
COUNTRY_FILTERED = [name for name in LISTS if name != "countries"]
SEARCHABLE = [
    "countries",
    "engagements",
    "follow-ups",
    "counterparts",
    "agreements",
    "announcements",
    "facilities",
    "organisations",
]
DATE_FILTERS = [
    ("partnerships", "started_on"),
    ("engagements", "occurred_on"),
    ("follow-ups", "due_on"),
    ("agreements", "signed_on"),
    ("agreements", "expires_on"),
    ("facilities", "expected_online"),
    ("country-tracks", "next_step_due"),
]
DATETIME_FILTERS = [("stage-changes", "changed_at"), ("announcements", "published_at")]
ID_FILTERS = [
    ("partnerships", "country_id"),
    ("partnerships", "lead_liaison_id"),
    ("country-tracks", "country_id"),
    ("country-tracks", "track_id"),
    ("country-tracks", "owner_id"),
    ("stage-changes", "country_id"),
    ("stage-changes", "country_track_id"),
    ("engagements", "country_id"),
    ("engagements", "track_id"),
    ("engagements", "logged_by_id"),
    ("engagements", "counterpart_id"),
    ("follow-ups", "country_id"),
    ("follow-ups", "track_id"),
    ("follow-ups", "engagement_id"),
    ("follow-ups", "owner_id"),
    ("counterparts", "country_id"),
    ("agreements", "country_id"),
    ("announcements", "country_id"),
    ("announcements", "track_id"),
    ("facilities", "country_id"),
    ("facilities", "organisation_id"),
    ("organisations", "country_id"),
]
CHOICE_FILTERS = [
    ("countries", "region"),
    ("countries", "subregion"),
    ("partnerships", "region"),
    ("partnerships", "status"),
    ("country-tracks", "region"),
    ("country-tracks", "health"),
    ("country-tracks", "priority"),
    ("engagements", "kind"),
    ("engagements", "sensitivity"),
    ("announcements", "status"),
    ("facilities", "region"),
    ("facilities", "kind"),
    ("facilities", "status"),
    ("facilities", "sector"),
    ("organisations", "kind"),
    ("status", "region"),
    ("status", "health"),
]


@pytest.fixture
def bad(db):
    """A small programme (GB, FR, KE) built through the services, and a staff client with an API token."""
    from announcements.services import announcement_create
    from core.services import api_token_create
    from countries.services import counterpart_create
    from engagements.services import agreement_create, engagement_log
    from infrastructure.services import facility_create
    from partnerships.models import CountryTrack
    from partnerships.rollup import rollup_countries
    from partnerships.services import partnership_create

    staff = factories.staff(username="bad-input-staff")
    today = timezone.localdate()
    for code in PROGRAMME:
        partnership_create(actor=staff, country=factories.country(code))
    gb = factories.country("GB")
    engagement = engagement_log(
        actor=staff,
        country=gb,
        occurred_on=today - datetime.timedelta(days=3),
        kind="meeting",
        summary="Kick-off",
        follow_ups=[{"description": "Send the draft", "due_on": today + datetime.timedelta(days=7)}],
    )
    counterpart = counterpart_create(actor=staff, country=gb, name="Minister of Science")
    facility = facility_create(actor=staff, country=gb, name="National supercomputer")
    announcement = announcement_create(actor=staff, title="GB joins", countries=[gb])
    agreement = agreement_create(actor=staff, country=gb, kind="mou", title="MoU", signed_on=today)
    rollup_countries()
    _token, secret = api_token_create(actor=staff, user=staff, name="bad input", days=1)
    # A 500 must come back as a response, not as an exception raised into the test.
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return SimpleNamespace(
        client=client,
        staff=staff,
        engagement=engagement,
        follow_up=engagement.follow_ups.get(),
        counterpart=counterpart,
        facility=facility,
        announcement=announcement,
        agreement=agreement,
        country_track=CountryTrack.objects.get(country=gb, track__key="workforce"),
    )


def row_counts() -> dict:
    return {label: apps.get_model(label).objects.count() for label in TABLES}


class Unchanged:
    """``with Unchanged(client, detail_url):`` the row counts and the object at ``detail_url`` are as they were."""

    def __init__(self, client=None, *detail_urls):
        self.client, self.detail_urls = client, detail_urls

    def _detail(self):
        return [self.client.get(url).json() for url in self.detail_urls]

    def __enter__(self):
        self.counts, self.details = row_counts(), self._detail()
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            assert row_counts() == self.counts
            assert self._detail() == self.details


def assert_error(
    response, status: int, *, error_type: str | None = None, attr: str | None = None, code: str | None = None, extra=()
):
    """The API's error shape, with the field named when ``attr`` is given (and the ``extra`` keys of a 412: current)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"type", "errors", *extra}, body
    assert body["type"] == (error_type or ("validation_error" if status == 400 else "client_error")), body
    assert body["errors"] and all(set(error) == {"code", "detail", "attr"} for error in body["errors"]), body
    if attr is not None:
        assert attr in [error["attr"] for error in body["errors"]], body
    if code is not None:
        assert code in [error["code"] for error in body["errors"]], body
    return body


def url(path: str, **query) -> str:
    return f"/api/v1/{path}/" + (f"?{urlencode(query)}" if query else "")


def engagement_body(**overrides) -> dict:
    body = {"country": "GB", "occurred_on": str(timezone.localdate()), "kind": "meeting", "summary": "Follow-up call"}
    return {**body, **overrides}


# --- unknown country codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/countries/zz/",
        "/api/v1/countries/ZZ/",
        "/api/v1/countries/zz/status/",
        "/api/v1/countries/gbr/status/",
        "/api/v1/partnerships/zz/",
        # A real country outside the programme: it has no partnership and no status.
        "/api/v1/partnerships/us/",
        "/api/v1/countries/us/status/",
    ],
)
def test_unknown_country_code_in_the_path_is_a_404(bad, path):
    assert_error(bad.client.get(path), 404, code="not_found")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/countries/gbr/", "/api/v1/partnerships/gbr/", "/api/v1/countries/g%00/", "/api/v1/countries/gb/nope/"],
)
def test_unroutable_country_code_in_the_path_answers_the_json_error_shape(bad, path):
    """3 letters where the router wants [A-Za-z]{2}, a NUL byte: no route matches, and the API's catch-all answers."""
    assert_error(bad.client.get(path), 404, code="not_found")


def test_unknown_country_code_in_the_path_of_a_write_changes_nothing(bad):
    with Unchanged(bad.client, "/api/v1/partnerships/gb/"):
        assert_error(bad.client.patch("/api/v1/partnerships/zz/", {"notes": "x"}, format="json"), 404)
        assert_error(bad.client.patch("/api/v1/partnerships/us/", {"notes": "x"}, format="json"), 404)


@pytest.mark.parametrize("path", COUNTRY_FILTERED)
def test_unknown_country_code_in_a_filter_finds_nothing(bad, path):
    response = bad.client.get(url(path, country="zz"))
    assert response.status_code == 200, response.content[:300]
    assert response.json()["count"] == 0


@pytest.mark.parametrize("path", COUNTRY_FILTERED)
def test_country_code_of_three_letters_in_a_filter_is_a_400(bad, path):
    assert_error(bad.client.get(url(path, country="gbr")), 400, attr="country")


def test_unknown_country_code_in_the_countries_filter(bad):
    assert bad.client.get(url("countries", code="zz")).json()["count"] == 0
    assert_error(bad.client.get(url("countries", code="gbr")), 400, attr="code")


@pytest.mark.parametrize(
    ("path", "body", "attr"),
    [
        ("engagements", engagement_body(country="ZZ"), "country"),
        ("engagements", engagement_body(country="GBR"), "country"),
        ("partnerships", {"country": "ZZ"}, "country"),
        ("counterparts", {"country": "ZZ", "name": "Someone"}, "country"),
        ("follow-ups", {"country": "ZZ", "description": "Call", "due_on": "2030-01-01"}, "country"),
        ("facilities", {"country": "ZZ", "name": "Data centre"}, "country"),
        ("announcements", {"title": "News", "countries": ["GB", "ZZ"]}, "countries"),
    ],
)
def test_unknown_country_code_in_a_body_is_a_400_and_changes_nothing(bad, path, body, attr):
    with Unchanged():
        assert_error(bad.client.post(url(path), body, format="json"), 400, attr=attr)


# --- malformed dates ---------------------------------------------------------------------------

BAD_DATES = ["2026-13-45", "2026-02-30", "yesterday", "0000-01-01", "99999-01-01", "2026-1-1x", "--"]


@pytest.mark.parametrize("value", BAD_DATES)
@pytest.mark.parametrize(("path", "name"), DATE_FILTERS)
def test_malformed_date_filter_is_a_400_naming_the_filter(bad, path, name, value):
    for suffix in ("after", "before"):
        assert_error(bad.client.get(url(path, **{f"{name}_{suffix}": value})), 400, attr=name)


@pytest.mark.parametrize("value", ["2026-01-01T25:00:00", "yesterday", "2026-02-30T10:00:00Z", "0000-01-01T00:00:00Z"])
@pytest.mark.parametrize(("path", "name"), DATETIME_FILTERS)
def test_malformed_datetime_filter_is_a_400_naming_the_filter(bad, path, name, value):
    for suffix in ("after", "before"):
        assert_error(bad.client.get(url(path, **{f"{name}_{suffix}": value})), 400, attr=name)


# PostgreSQL refuses UTC offsets of 16 h or more (Python accepts up to 24 h): the date-time filters convert to UTC
# first (core/filters.py UTCIsoDateTimeField.to_python), so such a value is a valid filter, never a 500.
@pytest.mark.parametrize(("path", "name"), DATETIME_FILTERS)
def test_out_of_range_utc_offset_is_not_a_server_error(bad, path, name):
    response = bad.client.get(url(path, **{f"{name}_after": "2026-01-01T00:00:00+20:00"}))
    assert response.status_code in (200, 400), response.content[:300]


@pytest.mark.parametrize("value", ["31/12/2025", "2026-02-30", "tomorrow", "", 20260101, None])
def test_malformed_date_in_a_body_is_a_400_and_changes_nothing(bad, value):
    with Unchanged():
        assert_error(
            bad.client.post(url("engagements"), engagement_body(occurred_on=value), format="json"), 400, attr="occurred_on"
        )
        body = {"country": "GB", "description": "Call", "due_on": value}
        assert_error(bad.client.post(url("follow-ups"), body, format="json"), 400, attr="due_on")


def test_malformed_dates_in_updates_and_actions_change_nothing(bad):
    engagement_url = f"/api/v1/engagements/{bad.engagement.pk}/"
    announcement_url = f"/api/v1/announcements/{bad.announcement.pk}/"
    track_url = f"/api/v1/country-tracks/{bad.country_track.pk}/"
    with Unchanged(bad.client, engagement_url, announcement_url, track_url):
        response = bad.client.patch(engagement_url, {"occurred_on": "2026-13-01"}, format="json")
        assert_error(response, 400, attr="occurred_on")
        response = bad.client.post(f"{announcement_url}schedule/", {"embargo_until": "tomorrow at nine"}, format="json")
        assert_error(response, 400, attr="embargo_until")
        response = bad.client.post(f"{announcement_url}schedule/", {"embargo_until": "9999-12-31T23:59:59-23:59"}, format="json")
        assert_error(response, 400, attr="embargo_until")
        response = bad.client.post(f"{track_url}pause/", {"reason": "Elections", "resume_on": "after the summer"}, format="json")
        assert_error(response, 400, attr="resume_on")
        response = bad.client.patch(track_url, {"next_step_due": "2026-02-30"}, format="json")
        assert_error(response, 400, attr="next_step_due")


# --- page size and offset ----------------------------------------------------------------------


@pytest.fixture
def many_follow_ups(bad):
    """More rows than the largest page (510 follow-ups for GB, written directly: only their number matters here)."""
    from engagements.models import FollowUp

    due = timezone.localdate() + datetime.timedelta(days=30)
    FollowUp.objects.bulk_create(
        FollowUp(country=bad.engagement.country, description=f"Task {n}", due_on=due) for n in range(510)
    )
    return FollowUp.objects.count()


@pytest.mark.parametrize("limit", [10**9, 501, 2**63, 10**30])
def test_huge_limit_is_capped_at_500(bad, many_follow_ups, limit):
    response = bad.client.get(url("follow-ups", limit=limit))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == many_follow_ups > 500
    assert len(body["results"]) == 500
    assert "limit=500" in body["next"] and "offset=500" in body["next"]


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "", "1.5", "1e3", "\x00", LONG])
def test_garbage_limit_falls_back_to_the_default_page(bad, many_follow_ups, limit):
    response = bad.client.get(url("follow-ups", limit=limit))
    assert response.status_code == 200, response.content[:300]
    assert len(response.json()["results"]) == 50


@pytest.mark.parametrize("offset", ["-5", "-1", "abc", "", "1.5", "\x00", LONG])
def test_negative_or_garbage_offset_reads_from_the_start(bad, many_follow_ups, offset):
    first_page = bad.client.get(url("follow-ups", limit=5)).json()["results"]
    response = bad.client.get(url("follow-ups", limit=5, offset=offset))
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"] == first_page


@pytest.mark.parametrize("offset", [10**6, 2**63 - 1, 2**63, 10**30])
def test_offset_past_the_end_is_an_empty_page(bad, offset):
    response = bad.client.get(url("engagements", offset=offset))
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"] == []


# --- unknown filter values ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["party", "999", "", "\u00e9", "Meeting"])
@pytest.mark.parametrize(("path", "name"), CHOICE_FILTERS)
def test_unknown_choice_in_a_filter_is_a_400_naming_the_filter(bad, path, name, value):
    response = bad.client.get(url(path, **{name: value}))
    if value == "":
        # An empty value means "no filter", as in the HTML lists.
        assert response.status_code == 200
        return
    assert_error(response, 400, attr=name, code="invalid_choice")


@pytest.mark.parametrize(
    "query",
    [
        {"track": "no-such-track"},
        {"stage": "no-such-stage"},
        {"owner": "nobody"},
        {"ordering": "no_such_field"},
        {"ordering": "-"},
        {"done": "maybe"},
        {"in_programme": "perhaps"},
        {"unknown_filter": "1"},
    ],
)
@pytest.mark.parametrize("path", ["country-tracks", "follow-ups", "countries", "status"])
def test_unknown_free_text_filter_values_are_not_server_errors(bad, path, query):
    response = bad.client.get(url(path, **query))
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert_error(response, 400)


@pytest.mark.parametrize("value", ["1e30", str(2**63)])
@pytest.mark.parametrize(("path", "name"), ID_FILTERS)
def test_huge_id_filter_is_a_400_naming_the_filter(bad, path, name, value):
    """Ids are 64-bit integers: a longer one never reaches the database (SQLite overflowed on it: a 500)."""
    assert_error(bad.client.get(url(path, **{name: value})), 400, attr=name)


@pytest.mark.parametrize("value", ["abc", "1.5.1", "\x00", LONG, "-1", "0"])
@pytest.mark.parametrize(("path", "name"), ID_FILTERS[:4])
def test_garbage_id_filter_is_not_a_server_error(bad, path, name, value):
    response = bad.client.get(url(path, **{name: value}))
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert_error(response, 400, attr=name)


# --- NUL bytes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SEARCHABLE)
def test_nul_byte_in_a_search_is_a_400(bad, path):
    assert_error(bad.client.get(url(path, q=NUL)), 400, attr="q", code="null_characters_not_allowed")


@pytest.mark.parametrize(
    ("path", "name"),
    [("engagements", "country"), ("country-tracks", "track"), ("country-tracks", "owner"), ("status", "stage")],
)
def test_nul_byte_in_a_filter_is_a_400(bad, path, name):
    assert_error(bad.client.get(url(path, **{name: "G\x00"})), 400, attr=name, code="null_characters_not_allowed")


@pytest.mark.parametrize(
    "path",
    [
        url("engagements", ordering="na\x00me"),
        url("engagements", limit="\x00", offset="\x00"),
        "/api/v1/engagements/%00/",
        "/api/v1/partnerships/" + quote("g\x00") + "/",
    ],
)
def test_nul_byte_elsewhere_in_a_read_is_not_a_server_error(bad, path):
    assert bad.client.get(path).status_code in (200, 404)


@pytest.mark.parametrize("code", ["g%00", "%00%00", "gb%00"])
def test_nul_byte_in_the_country_status_path_is_a_404(bad, code):
    """Not a 500 on PostgreSQL, whose driver refuses NUL bytes in a query."""
    assert_error(bad.client.get(f"/api/v1/countries/{code}/status/"), 404)


@pytest.mark.parametrize(
    ("method", "path", "body", "attr"),
    [
        ("post", "engagements", engagement_body(summary=NUL), "summary"),
        ("post", "engagements", engagement_body(outcome=NUL), "outcome"),
        ("post", "engagements", engagement_body(country="G\x00"), "country"),
        ("post", "engagements", engagement_body(tracks=["work\x00force"]), "tracks"),
        (
            "post",
            "engagements",
            engagement_body(follow_ups=[{"description": NUL, "due_on": "2030-01-01"}]),
            "follow_ups.0.description",
        ),
        ("post", "counterparts", {"country": "GB", "name": NUL}, "name"),
        ("post", "partnerships", {"country": "US", "notes": NUL}, "notes"),
        ("post", "organisations", {"name": NUL}, "name"),
        ("post", "announcements", {"title": NUL}, "title"),
        ("post", "facilities", {"country": "GB", "name": "DC", "description": NUL}, "description"),
        ("patch", "partnerships/gb", {"lead_liaison": "bad-input-\x00staff"}, "lead_liaison"),
        ("patch", "partnerships/gb", {"notes": NUL}, "notes"),
    ],
)
def test_nul_byte_in_a_body_is_a_400_and_changes_nothing(bad, method, path, body, attr):
    with Unchanged(bad.client, "/api/v1/partnerships/gb/"):
        response = getattr(bad.client, method)(url(path), body, format="json")
        assert_error(response, 400, attr=attr)


def test_nul_byte_in_updates_and_actions_changes_nothing(bad):
    engagement_url = f"/api/v1/engagements/{bad.engagement.pk}/"
    counterpart_url = f"/api/v1/counterparts/{bad.counterpart.pk}/"
    track_url = f"/api/v1/country-tracks/{bad.country_track.pk}/"
    facility_url = f"/api/v1/facilities/{bad.facility.pk}/"
    with Unchanged(bad.client, engagement_url, counterpart_url, track_url, facility_url):
        assert_error(bad.client.patch(engagement_url, {"summary": NUL}, format="json"), 400, attr="summary")
        assert_error(bad.client.patch(counterpart_url, {"title": NUL}, format="json"), 400, attr="title")
        assert_error(bad.client.patch(track_url, {"next_step": NUL}, format="json"), 400, attr="next_step")
        assert_error(bad.client.patch(track_url, {"owner": "\x00"}, format="json"), 400, attr="owner")
        assert_error(bad.client.post(f"{track_url}move/", {"to_stage": "explo\x00ring"}, format="json"), 400, attr="to_stage")
        assert_error(
            bad.client.post(f"{track_url}move/", {"to_stage": "exploring", "note": NUL}, format="json"), 400, attr="note"
        )
        assert_error(bad.client.post(f"{track_url}withdraw/", {"reason": NUL}, format="json"), 400, attr="reason")
        assert_error(bad.client.patch(facility_url, {"city": NUL}, format="json"), 400, attr="city")
        assert_error(
            bad.client.post(f"{facility_url}phases/", {"online_on": "2030-01-01", "accelerator_type": NUL}, format="json"),
            400,
            attr="accelerator_type",
        )


def test_nul_byte_and_lone_surrogate_in_raw_json_are_400s(bad):
    with Unchanged():
        for escaped in ("a\\u0000b", "\\ud800"):
            raw = f'{{"country": "GB", "occurred_on": "2026-01-01", "kind": "meeting", "summary": "{escaped}"}}'
            response = bad.client.post(url("engagements"), raw, content_type="application/json")
            assert_error(response, 400, attr="summary")


# --- very long strings -------------------------------------------------------------------------


@pytest.mark.parametrize("path", SEARCHABLE)
def test_100k_search_is_a_400(bad, path):
    assert_error(bad.client.get(url(path, q=LONG)), 400, attr="q", code="max_length")


@pytest.mark.parametrize(
    "query",
    [{"country": LONG}, {"track": LONG}, {"owner": LONG}, {"ordering": LONG}, {"stage": LONG}, {"region": LONG}],
)
def test_100k_filter_values_are_not_server_errors(bad, query):
    for path in ("country-tracks", "status"):
        response = bad.client.get(url(path, **query))
        assert response.status_code in (200, 400), response.content[:300]
        if response.status_code == 400:
            assert_error(response, 400, attr=next(iter(query)))


@pytest.mark.parametrize(
    "path",
    [f"/api/v1/countries/{LONG}/status/", f"/api/v1/engagements/{'9' * 100_000}/", f"/api/v1/tracks/{LONG}/"],
)
def test_100k_path_segment_is_a_404(bad, path):
    assert_error(bad.client.get(path), 404)


@pytest.mark.parametrize(
    ("path", "body", "attr"),
    [
        ("engagements", engagement_body(summary=LONG), "summary"),
        ("counterparts", {"country": "GB", "name": LONG}, "name"),
        ("partnerships", {"country": "US", "notes": LONG}, "notes"),
        ("announcements", {"title": LONG}, "title"),
        ("announcements", {"title": "News", "body": LONG * 2}, "body"),
        ("organisations", {"name": LONG}, "name"),
        ("facilities", {"country": "GB", "name": "DC", "description": LONG}, "description"),
        ("facilities", {"country": "GB", "name": "DC", "source_url": "https://example.org/" + LONG}, "source_url"),
        ("agreements", {"country": "GB", "kind": "mou", "title": LONG, "signed_on": "2026-01-01"}, "title"),
    ],
)
def test_100k_string_in_a_body_is_a_400_and_changes_nothing(bad, path, body, attr):
    with Unchanged():
        assert_error(bad.client.post(url(path), body, format="json"), 400, attr=attr, code="max_length")


def test_100k_slug_in_a_body_is_a_400_and_changes_nothing(bad):
    with Unchanged():
        for body, attr in [
            (engagement_body(tracks=[LONG]), "tracks"),
            (engagement_body(country=LONG), "country"),
            (engagement_body(counterparts=[int("9" * 4000)]), "counterparts"),
        ]:
            assert_error(bad.client.post(url("engagements"), body, format="json"), 400, attr=attr)


def test_100k_strings_in_updates_and_headers_change_nothing(bad):
    engagement_url = f"/api/v1/engagements/{bad.engagement.pk}/"
    track_url = f"/api/v1/country-tracks/{bad.country_track.pk}/"
    with Unchanged(bad.client, engagement_url, track_url):
        assert_error(bad.client.patch(engagement_url, {"outcome": LONG}, format="json"), 400, attr="outcome")
        assert_error(bad.client.post(f"{track_url}move/", {"to_stage": LONG}, format="json"), 400, attr="to_stage")
        assert_error(
            bad.client.post(f"{track_url}pause/", {"reason": LONG, "resume_on": None}, format="json"), 400, attr="reason"
        )
        # A stale or absurd If-Match is a 412, whatever its length.
        response = bad.client.patch(engagement_url, {"summary": "Changed"}, format="json", HTTP_IF_MATCH=LONG)
        assert_error(response, 412, code="precondition_failed", extra={"current"})
    assert bad.client.get(engagement_url, HTTP_IF_NONE_MATCH=LONG).status_code == 200


# --- wrong content types -----------------------------------------------------------------------

WRONG_CONTENT_TYPES = [
    ("country=GB&occurred_on=2026-01-01&kind=meeting&summary=x", "application/x-www-form-urlencoded"),
    ("country: GB", "text/plain"),
    ("<engagement country='GB'/>", "application/xml"),
    ('{"country": "GB"}', "text/json"),
    ("--b\r\nContent-Disposition: form-data; name=country\r\n\r\nGB\r\n--b--\r\n", "multipart/form-data; boundary=b"),
]


@pytest.mark.parametrize(("data", "content_type"), WRONG_CONTENT_TYPES)
def test_wrong_content_type_is_a_415_and_changes_nothing(bad, data, content_type):
    engagement_url = f"/api/v1/engagements/{bad.engagement.pk}/"
    with Unchanged(bad.client, engagement_url):
        response = bad.client.post(url("engagements"), data, content_type=content_type)
        assert_error(response, 415, code="unsupported_media_type")
        response = bad.client.patch(engagement_url, data, content_type=content_type)
        assert_error(response, 415, code="unsupported_media_type")
        response = bad.client.post(f"/api/v1/country-tracks/{bad.country_track.pk}/move/", data, content_type=content_type)
        assert_error(response, 415, code="unsupported_media_type")


# --- invalid JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"country": ',
        b"{",
        b"{'country': 'GB'}",
        b'{"country": "GB",}',
        b'{"summary": NaN}',
        b'{"summary": Infinity}',
        b'{"summary": "\xff\xfe"}',
        b"\x00",
        b"[1, 2",
    ],
)
def test_invalid_json_is_a_400_parse_error_and_changes_nothing(bad, raw):
    engagement_url = f"/api/v1/engagements/{bad.engagement.pk}/"
    with Unchanged(bad.client, engagement_url):
        response = bad.client.post(url("engagements"), raw, content_type="application/json")
        assert_error(response, 400, error_type="client_error", code="parse_error")
        response = bad.client.patch(engagement_url, raw, content_type="application/json")
        assert_error(response, 400, error_type="client_error", code="parse_error")


@pytest.mark.parametrize("raw", [b"[]", b"42", b'"GB"', b"null", b"", b"{}", b'{"tracks": {"a": 1}}'])
def test_json_that_is_not_an_object_of_the_right_fields_is_a_400(bad, raw):
    with Unchanged():
        response = bad.client.post(url("engagements"), raw, content_type="application/json")
        assert_error(response, 400)


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deeply_nested_json_is_a_400_parse_error(bad, depth):
    raw = '{"country": "GB", "summary": ' + "[" * depth + "]" * depth + "}"
    with Unchanged():
        response = bad.client.post(url("engagements"), raw, content_type="application/json")
        assert_error(response, 400, error_type="client_error", code="parse_error")


# --- wrong methods -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "engagements/{engagement}"),
        ("put", "engagements/{engagement}"),
        ("put", "partnerships/gb"),
        ("delete", "partnerships/gb"),
        ("post", "countries"),
        ("delete", "countries/gb"),
        ("patch", "countries/gb"),
        ("post", "status"),
        ("delete", "status"),
        ("put", "countries/gb/status"),
        ("post", "stage-changes"),
        ("put", "agreements/{agreement}"),
        ("delete", "agreements/{agreement}"),
        ("put", "follow-ups/{follow_up}"),
        ("delete", "follow-ups/{follow_up}"),
        ("post", "tracks"),
        ("delete", "tracks/workforce"),
        ("post", "users/me"),
        ("get", "country-tracks/{country_track}/move"),
        ("get", "follow-ups/{follow_up}/complete"),
        ("delete", "announcements/{announcement}"),
        ("patch", "organisations"),
    ],
)
def test_wrong_method_is_a_405_and_changes_nothing(bad, method, path):
    ids = {
        "engagement": bad.engagement.pk,
        "follow_up": bad.follow_up.pk,
        "country_track": bad.country_track.pk,
        "announcement": bad.announcement.pk,
        "agreement": bad.agreement.pk,
    }
    with Unchanged(bad.client, f"/api/v1/engagements/{bad.engagement.pk}/", "/api/v1/partnerships/gb/"):
        response = getattr(bad.client, method)(url(path.format(**ids)), {"summary": "x"}, format="json")
        assert_error(response, 405, code="method_not_allowed")
