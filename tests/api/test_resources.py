"""Every REST resource through the same tests (after NetBox's ``APIViewTestCases``), then the rules of each.

Each resource declares its URLs, what a viewer sees in its list, and, where the API allows it, the
data of a create and of an update; the parametrized tests below give every resource the same list,
detail, anonymous, no-role, create, update and refusal checks. The data comes from the ``programme``
fixture of ``conftest.py``.
"""

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from announcements.models import Announcement
from core.models import Event
from countries import services as country_services
from countries.models import Counterpart, Country, CountryStatus
from engagements.models import Agreement, Engagement, FollowUp
from infrastructure.models import CapacityPhase, Facility, FacilityPartner, Organisation
from partnerships.models import CountryTrack, Partnership, StageChange
from tracks.models import Track

pytestmark = pytest.mark.django_db

API = "/api/v1"
ETAG = re.compile(r'^(W/)?"[^"]+"$')


def days(n: int) -> str:
    return str(timezone.localdate() + datetime.timedelta(days=n))


@dataclass(frozen=True)
class Resource:
    """One API resource: where it lives, what a viewer sees, and how to create and update one."""

    name: str
    model: type[models.Model]
    detail: Callable  # programme -> path of one object a viewer may read
    viewer_count: int  # rows in the viewer's list, given the programme
    create: Callable | None = None  # programme -> POST body (staff)
    expect_created: dict = field(default_factory=dict)  # fields of the 201 answer
    created_event: str = ""
    update: Callable | None = None  # programme -> (path, PATCH body) (staff)
    updated_event: str = ""
    url_of: Callable | None = None  # model instance -> detail path (default: /<name>/<pk>/)

    @property
    def list_url(self) -> str:
        return f"{API}/{self.name}/"

    def object_url(self, obj) -> str:
        return self.url_of(obj) if self.url_of else f"{self.list_url}{obj.pk}/"

    def __str__(self):
        return self.name


RESOURCES = [
    Resource("countries", Country, lambda p: f"{API}/countries/gb/", viewer_count=249),
    Resource(
        "partnerships",
        Partnership,
        lambda p: f"{API}/partnerships/gb/",
        viewer_count=3,
        create=lambda p: {"country": "de", "status": "engaged", "notes": "Joined through the API"},
        expect_created={"country": "DE", "country_name": "Germany", "status": "engaged", "notes": "Joined through the API"},
        created_event="partnership.created",
        update=lambda p: (f"{API}/partnerships/gb/", {"status": "partnered", "notes": "Signed up"}),
        updated_event="partnership.updated",
        url_of=lambda obj: f"{API}/partnerships/{obj.country.iso2.lower()}/",
    ),
    Resource(
        "country-tracks",
        CountryTrack,
        lambda p: f"{API}/country-tracks/{p.gb_workforce.pk}/",
        viewer_count=12,
        update=lambda p: (
            f"{API}/country-tracks/{p.gb_workforce.pk}/",
            {"next_step": "Sign the MoU", "next_step_due": days(20), "priority": "high", "owner": "gb-liaison"},
        ),
        updated_event="country_track.updated",
    ),
    Resource(
        "stage-changes",
        StageChange,
        lambda p: f"{API}/stage-changes/{p.gb_workforce.stage_changes.latest('changed_at', 'id').pk}/",
        viewer_count=18,  # 12 openings (3 countries x 4 tracks) + 5 moves + 1 pause
    ),
    Resource(
        "engagements",
        Engagement,
        lambda p: f"{API}/engagements/{p.gb_engagement.pk}/",
        viewer_count=2,  # the confidential one is hidden
        create=lambda p: {
            "country": "gb",
            "occurred_on": days(-1),
            "kind": "workshop",
            "summary": "Curriculum workshop",
            "tracks": ["workforce"],
            "counterparts": [p.gb_counterpart.pk],
            "follow_ups": [{"description": "Circulate the notes", "due_on": days(5), "track": "workforce"}],
        },
        expect_created={"country": "GB", "kind": "workshop", "summary": "Curriculum workshop", "tracks": ["workforce"]},
        created_event="engagement.logged",
        update=lambda p: (f"{API}/engagements/{p.gb_engagement.pk}/", {"summary": "Kick-off on skills (corrected)"}),
        updated_event="engagement.updated",
    ),
    Resource(
        "follow-ups",
        FollowUp,
        lambda p: f"{API}/follow-ups/{p.gb_open.pk}/",
        viewer_count=3,  # the follow-up of the confidential engagement is hidden
        create=lambda p: {
            "country": "gb",
            "description": "Send the draft MoU",
            "due_on": days(10),
            "track": "workforce",
            "owner": "gb-liaison",
            "engagement": p.gb_engagement.pk,
        },
        expect_created={"country": "GB", "description": "Send the draft MoU", "owner": "gb-liaison", "is_overdue": False},
        created_event="follow_up.created",
        update=lambda p: (f"{API}/follow-ups/{p.gb_open.pk}/", {"due_on": days(20), "description": "Send the revised MoU"}),
        updated_event="follow_up.updated",
    ),
    Resource(
        "counterparts",
        Counterpart,
        lambda p: f"{API}/counterparts/{p.gb_counterpart.pk}/",
        viewer_count=2,
        create=lambda p: {"country": "gb", "name": "Grace Secretary", "title": "Permanent Secretary", "email": "g@example.org"},
        expect_created={"country": "GB", "name": "Grace Secretary", "is_active": True},
        created_event="counterpart.created",
        update=lambda p: (f"{API}/counterparts/{p.gb_counterpart.pk}/", {"title": "Secretary of State"}),
        updated_event="counterpart.updated",
    ),
    Resource(
        "agreements",
        Agreement,
        lambda p: f"{API}/agreements/{p.gb_agreement.pk}/",
        viewer_count=1,
        create=lambda p: {
            "country": "gb",
            "kind": "loi",
            "title": "Letter of intent on compute",
            "signed_on": days(-3),
            "expires_on": days(700),
            "tracks": ["data_centres"],
        },
        expect_created={"country": "GB", "kind": "loi", "tracks": ["data_centres"], "signatory_level": "minister"},
        created_event="agreement.signed",
        update=lambda p: (f"{API}/agreements/{p.gb_agreement.pk}/", {"title": "MoU on AI skills (signed copy)"}),
        updated_event="agreement.updated",
    ),
    Resource(
        "announcements",
        Announcement,
        lambda p: f"{API}/announcements/{p.published.pk}/",
        viewer_count=1,  # drafts and embargoed ones are hidden
        create=lambda p: {"title": "GB skills programme", "countries": ["gb"], "tracks": ["workforce"]},
        expect_created={"title": "GB skills programme", "countries": ["GB"], "status": "draft", "published_at": None},
        created_event="announcement.drafted",
        update=lambda p: (f"{API}/announcements/{p.draft.pk}/", {"title": "GB skills programme (v2)", "is_public": False}),
        updated_event="announcement.updated",
    ),
    Resource(
        "facilities",
        Facility,
        lambda p: f"{API}/facilities/{p.facility.pk}/",
        viewer_count=1,
        create=lambda p: {"country": "gb", "name": "Cardiff Supercomputer", "kind": "supercomputer", "status": "planned"},
        expect_created={"country": "GB", "name": "Cardiff Supercomputer", "phases": [], "partners": []},
        created_event="facility.created",
        update=lambda p: (f"{API}/facilities/{p.facility.pk}/", {"city": "Glasgow", "status": "under_construction"}),
        updated_event="facility.updated",
    ),
    Resource(
        "organisations",
        Organisation,
        lambda p: f"{API}/organisations/{p.organisation.pk}/",
        viewer_count=1,
        create=lambda p: {"name": "Compute Agency", "kind": "agency", "country": "gb", "website": "https://agency.example.org"},
        expect_created={"name": "Compute Agency", "kind": "agency", "country": "GB"},
        created_event="organisation.created",
    ),
    Resource("tracks", Track, lambda p: f"{API}/tracks/workforce/", viewer_count=4),
]
CREATABLE = [r for r in RESOURCES if r.create]
NOT_CREATABLE = [r for r in RESOURCES if not r.create]
UPDATABLE = [r for r in RESOURCES if r.update]
NOT_UPDATABLE = [r for r in RESOURCES if not r.update]


def attrs(response) -> set[str | None]:
    return {e["attr"] for e in response.json()["errors"]}


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] == "client_error"
    assert [e["code"] for e in body["errors"]] == [code]
    assert body["errors"][0]["attr"] is None and body["errors"][0]["detail"]


def assert_invalid(response, *fields: str):
    """400 in the standard shape, naming exactly these fields."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    assert attrs(response) == set(fields), body
    assert all(e["detail"] for e in body["errors"])


# --- the same tests for every resource -----------------------------------------------------------


@pytest.mark.parametrize("res", RESOURCES, ids=str)
def test_list_for_viewer(res, programme, viewer_api):
    response = viewer_api.get(res.list_url, {"limit": 500})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == res.viewer_count == len(body["results"])


@pytest.mark.parametrize("res", RESOURCES, ids=str)
def test_list_is_paginated(res, programme, viewer_api):
    body = viewer_api.get(res.list_url, {"limit": 1, "offset": 0}).json()
    assert len(body["results"]) == 1 and body["count"] == res.viewer_count
    assert body["previous"] is None and (body["next"] is not None) == (res.viewer_count > 1)


@pytest.mark.parametrize("res", RESOURCES, ids=str)
def test_detail_for_viewer_has_etag(res, programme, viewer_api):
    response = viewer_api.get(res.detail(programme))
    assert response.status_code == 200, response.content
    assert ETAG.match(response["ETag"])
    listed = viewer_api.get(res.list_url, {"limit": 500}).json()["results"]
    assert response.json() in listed


@pytest.mark.parametrize("res", RESOURCES, ids=str)
def test_anonymous_gets_401(res, programme, anon_api):
    for url in (res.list_url, res.detail(programme)):
        response = anon_api.get(url)
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("res", RESOURCES, ids=str)
def test_bad_token_gets_401(res, programme, anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token ppt_not-a-real-token")
    assert_error(anon_api.get(res.list_url), 401, "authentication_failed")


@pytest.mark.parametrize("res", RESOURCES, ids=str)
def test_user_without_role_gets_403(res, programme, norole_api):
    for url in (res.list_url, res.detail(programme)):
        assert_error(norole_api.get(url), 403, "permission_denied")


@pytest.mark.parametrize("res", CREATABLE, ids=str)
def test_create_by_staff_writes_row_and_event(res, programme, staff_api):
    before = res.model.objects.count()
    response = staff_api.post(res.list_url, res.create(programme), format="json")
    assert response.status_code == 201, response.content
    assert res.model.objects.count() == before + 1
    obj = res.model.objects.latest("pk")
    body = response.json()
    assert {k: body[k] for k in res.expect_created} == res.expect_created
    assert Event.objects.filter(kind=res.created_event, subject_id=str(obj.pk), actor=staff_api.user).count() == 1
    # The answer is the new row as a GET shows it, with its ETag.
    shown = staff_api.get(res.object_url(obj))
    assert shown.json() == body
    assert response["ETag"] == shown["ETag"]


@pytest.mark.parametrize("res", CREATABLE, ids=str)
def test_create_by_viewer_is_403_and_writes_nothing(res, programme, viewer_api):
    before, events = res.model.objects.count(), Event.objects.count()
    response = viewer_api.post(res.list_url, res.create(programme), format="json")
    assert_error(response, 403, "permission_denied")
    assert res.model.objects.count() == before and Event.objects.count() == events


@pytest.mark.parametrize("res", CREATABLE, ids=str)
def test_create_without_role_is_403(res, programme, norole_api):
    before = res.model.objects.count()
    assert_error(norole_api.post(res.list_url, res.create(programme), format="json"), 403, "permission_denied")
    assert res.model.objects.count() == before


@pytest.mark.parametrize("res", CREATABLE, ids=str)
def test_create_anonymous_is_401(res, programme, anon_api):
    before = res.model.objects.count()
    assert_error(anon_api.post(res.list_url, res.create(programme), format="json"), 401, "not_authenticated")
    assert res.model.objects.count() == before


@pytest.mark.parametrize("res", NOT_CREATABLE, ids=str)
def test_create_not_allowed_is_405(res, programme, staff_api):
    before = res.model.objects.count()
    assert_error(staff_api.post(res.list_url, {}, format="json"), 405, "method_not_allowed")
    assert res.model.objects.count() == before


@pytest.mark.parametrize("res", UPDATABLE, ids=str)
def test_update_by_staff_is_visible_in_a_following_get(res, programme, staff_api):
    url, changes = res.update(programme)
    response = staff_api.patch(url, changes, format="json")
    assert response.status_code == 200, response.content
    shown = staff_api.get(url).json()
    assert {k: shown[k] for k in changes} == changes
    assert response.json() == shown
    assert Event.objects.filter(kind=res.updated_event, actor=staff_api.user).count() == 1


@pytest.mark.parametrize("res", UPDATABLE, ids=str)
def test_update_by_viewer_is_403_and_changes_nothing(res, programme, viewer_api, staff_api):
    url, changes = res.update(programme)
    before = staff_api.get(url).json()
    # Refused before the object is looked up (a draft the viewer may not read answers the same): readers write nothing.
    assert_error(viewer_api.patch(url, changes, format="json"), 403, "permission_denied")
    assert staff_api.get(url).json() == before


@pytest.mark.parametrize("res", NOT_UPDATABLE, ids=str)
def test_update_not_allowed_is_405(res, programme, staff_api):
    assert_error(staff_api.patch(res.detail(programme), {}, format="json"), 405, "method_not_allowed")
    assert_error(staff_api.put(res.detail(programme), {}, format="json"), 405, "method_not_allowed")


@pytest.mark.parametrize("res", RESOURCES, ids=str)
def test_delete_is_not_offered(res, programme, staff_api):
    assert_error(staff_api.delete(res.detail(programme)), 405, "method_not_allowed")
    assert staff_api.get(res.detail(programme)).status_code == 200


@pytest.mark.parametrize("res", RESOURCES, ids=str)
def test_unknown_id_is_404(res, programme, staff_api):
    url = res.list_url + ("zz/" if res.name in ("countries", "partnerships") else "nope/" if res.name == "tracks" else "999999/")
    assert_error(staff_api.get(url), 404, "not_found")


# --- validation: 400 naming the field ------------------------------------------------------------

# (id, method, programme -> path, programme -> body, fields named)
VALIDATION = [
    (
        "engagement in the future",
        "post",
        lambda p: "/engagements/",
        lambda p: {"country": "gb", "occurred_on": days(1), "kind": "call", "summary": "Tomorrow's call"},
        ["occurred_on"],
    ),
    (
        "engagement without summary",
        "post",
        lambda p: "/engagements/",
        lambda p: {"country": "gb", "occurred_on": days(0), "kind": "call", "summary": "   "},
        ["summary"],
    ),
    (
        "engagement with a malformed date and unknown kind",
        "post",
        lambda p: "/engagements/",
        lambda p: {"country": "gb", "occurred_on": "2024-13-45", "kind": "dinner", "summary": "x"},
        ["occurred_on", "kind"],
    ),
    (
        "engagement with a counterpart of another country",
        "post",
        lambda p: "/engagements/",
        lambda p: {
            "country": "gb",
            "occurred_on": days(0),
            "kind": "call",
            "summary": "x",
            "counterparts": [p.fr_counterpart.pk],
        },
        ["counterparts"],
    ),
    (
        "engagement with an unknown country",
        "post",
        lambda p: "/engagements/",
        lambda p: {"country": "zz", "occurred_on": days(0), "kind": "call", "summary": "x"},
        ["country"],
    ),
    (
        "engagement moved into the future",
        "patch",
        lambda p: f"/engagements/{p.gb_engagement.pk}/",
        lambda p: {"occurred_on": days(3)},
        ["occurred_on"],
    ),
    ("counterpart with a blank name", "post", lambda p: "/counterparts/", lambda p: {"country": "gb", "name": ""}, ["name"]),
    (
        "counterpart renamed to blank",
        "patch",
        lambda p: f"/counterparts/{p.gb_counterpart.pk}/",
        lambda p: {"name": ""},
        ["name"],
    ),
    (
        "counterpart with a bad e-mail",
        "post",
        lambda p: "/counterparts/",
        lambda p: {"country": "gb", "name": "X", "email": "not-an-address"},
        ["email"],
    ),
    (
        "stage move backwards without a note",
        "post",
        lambda p: f"/country-tracks/{p.gb_workforce.pk}/move/",
        lambda p: {"to_stage": "exploring"},
        ["note"],
    ),
    (
        "stage move to a stage that does not exist",
        "post",
        lambda p: f"/country-tracks/{p.gb_workforce.pk}/move/",
        lambda p: {"to_stage": "launched"},
        ["to_stage"],
    ),
    (
        "stage move to a side state",
        "post",
        lambda p: f"/country-tracks/{p.gb_workforce.pk}/move/",
        lambda p: {"to_stage": "paused"},
        ["to_stage"],
    ),
    (
        "stage move with evidence from another country",
        "post",
        lambda p: f"/country-tracks/{p.gb_workforce.pk}/move/",
        lambda p: {"to_stage": "agreed", "evidence_engagement": p.fr_engagement.pk},
        ["evidence_engagement"],
    ),
    (
        "stage move with evidence the user cannot see",
        "post",
        lambda p: f"/country-tracks/{p.gb_workforce.pk}/move/",
        lambda p: {"to_stage": "agreed", "evidence_engagement": 999999},
        ["evidence_engagement"],
    ),
    (
        "pause without a reason",
        "post",
        lambda p: f"/country-tracks/{p.gb_public.pk}/pause/",
        lambda p: {"reason": " ", "resume_on": days(30)},
        ["reason"],
    ),
    (
        "pause with a resume date in the past",
        "post",
        lambda p: f"/country-tracks/{p.gb_public.pk}/pause/",
        lambda p: {"reason": "Budget", "resume_on": days(-1)},
        ["resume_on"],
    ),
    (
        "withdraw without a reason",
        "post",
        lambda p: f"/country-tracks/{p.gb_safety.pk}/withdraw/",
        lambda p: {"reason": ""},
        ["reason"],
    ),
    (
        "country-track with an unknown priority",
        "patch",
        lambda p: f"/country-tracks/{p.gb_workforce.pk}/",
        lambda p: {"priority": "urgent"},
        ["priority"],
    ),
    (
        "follow-up without a due date",
        "post",
        lambda p: "/follow-ups/",
        lambda p: {"country": "gb", "description": "Call back", "due_on": None},
        ["due_on"],
    ),
    (
        "follow-up of an engagement with another country",
        "post",
        lambda p: "/follow-ups/",
        lambda p: {"country": "gb", "description": "Call back", "due_on": days(3), "engagement": p.fr_engagement.pk},
        ["engagement"],
    ),
    (
        "agreement signed in the future",
        "post",
        lambda p: "/agreements/",
        lambda p: {"country": "gb", "kind": "mou", "title": "MoU", "signed_on": days(2)},
        ["signed_on"],
    ),
    (
        "announcement scheduled in the past",
        "post",
        lambda p: f"/announcements/{p.draft.pk}/schedule/",
        lambda p: {"embargo_until": (timezone.now() - datetime.timedelta(hours=1)).isoformat()},
        ["embargo_until"],
    ),
    (
        "announcement withdrawn without a reason",
        "post",
        lambda p: f"/announcements/{p.published.pk}/withdraw/",
        lambda p: {"reason": ""},
        ["reason"],
    ),
    ("organisation with a blank name", "post", lambda p: "/organisations/", lambda p: {"name": " "}, ["name"]),
    (
        "facility with an unknown country",
        "post",
        lambda p: "/facilities/",
        lambda p: {"country": "zz", "name": "Somewhere"},
        ["country"],
    ),
    (
        "facility phase without a date",
        "post",
        lambda p: f"/facilities/{p.facility.pk}/phases/",
        lambda p: {"name": "Phase 2", "power_mw": "5"},
        ["online_on"],
    ),
    (
        "facility partner that does not exist",
        "post",
        lambda p: f"/facilities/{p.facility.pk}/partners/",
        lambda p: {"organisation": 999999, "role": "operator"},
        ["organisation"],
    ),
    (
        "partnership with an unknown status",
        "patch",
        lambda p: "/partnerships/gb/",
        lambda p: {"status": "married"},
        ["status"],
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "fields"), [v[1:] for v in VALIDATION], ids=[v[0] for v in VALIDATION])
def test_validation_error_names_the_field(method, path, body, fields, programme, staff_api):
    events = Event.objects.count()
    response = getattr(staff_api, method)(API + path(programme), body(programme), format="json")
    assert_invalid(response, *fields)
    assert Event.objects.count() == events


def test_non_field_rule_is_400_with_non_field_errors(programme, staff_api):
    response = staff_api.post(f"{API}/partnerships/", {"country": "gb"}, format="json")
    assert_invalid(response, "non_field_errors")
    assert "already in the programme" in response.json()["errors"][0]["detail"]


def test_nested_follow_up_error_names_its_position(programme, staff_api):
    body = {
        "country": "gb",
        "occurred_on": days(0),
        "kind": "call",
        "summary": "Call",
        "follow_ups": [{"description": "Fine", "due_on": days(3)}, {"description": "No date", "due_on": None}],
    }
    response = staff_api.post(f"{API}/engagements/", body, format="json")
    assert_invalid(response, "follow_ups.1.due_on")


@pytest.mark.parametrize(
    ("path", "body", "field_name"),
    [
        ("/counterparts/", {"country": "gb", "name": "X", "active_from": days(0), "active_to": days(-10)}, "active_to"),
        (
            "/facilities/",
            {"country": "gb", "name": "X", "announced_on": days(0), "expected_online": days(-10)},
            "expected_online",
        ),
    ],
    ids=["counterpart dates out of order", "facility online before announced"],
)
def test_constraint_error_names_the_field(path, body, field_name, programme, staff_api):
    assert_invalid(staff_api.post(API + path, body, format="json"), field_name)


def test_duplicate_partner_role_uses_the_standard_non_field_key(programme, staff_api):
    body = {"organisation": programme.organisation.pk, "role": "builder"}
    response = staff_api.post(f"{API}/facilities/{programme.facility.pk}/partners/", body, format="json")
    assert_invalid(response, "non_field_errors")


# --- a liaison writes only for their countries (403) ---------------------------------------------


def test_fr_liaison_cannot_log_an_engagement_for_gb(programme, fr_api):
    before = Engagement.objects.count()
    body = {"country": "gb", "occurred_on": days(0), "kind": "call", "summary": "Not mine"}
    response = fr_api.post(f"{API}/engagements/", body, format="json")
    assert_error(response, 403, "permission_denied")
    assert "not one of your countries" in response.json()["errors"][0]["detail"]
    assert Engagement.objects.count() == before
    # ...but may for France.
    assert fr_api.post(f"{API}/engagements/", {**body, "country": "fr"}, format="json").status_code == 201


def test_fr_liaison_cannot_edit_a_gb_counterpart(programme, fr_api):
    url = f"{API}/counterparts/{programme.gb_counterpart.pk}/"
    assert_error(fr_api.patch(url, {"title": "Hijacked"}, format="json"), 403, "permission_denied")
    programme.gb_counterpart.refresh_from_db()
    assert programme.gb_counterpart.title == "Minister for AI"
    ok = fr_api.patch(f"{API}/counterparts/{programme.fr_counterpart.pk}/", {"title": "Directeur"}, format="json")
    assert ok.status_code == 200 and ok.json()["title"] == "Directeur"


def test_fr_liaison_cannot_move_a_gb_track(programme, fr_api):
    response = fr_api.post(f"{API}/country-tracks/{programme.gb_workforce.pk}/move/", {"to_stage": "agreed"}, format="json")
    assert_error(response, 403, "permission_denied")
    programme.gb_workforce.refresh_from_db()
    assert programme.gb_workforce.stage.key == "negotiating"
    ok = fr_api.post(f"{API}/country-tracks/{programme.fr_workforce.pk}/move/", {"to_stage": "negotiating"}, format="json")
    assert ok.status_code == 200 and ok.json()["stage"] == "negotiating"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", lambda p: f"/country-tracks/{p.gb_public.pk}/pause/", {"reason": "x", "resume_on": days(9)}),
        ("patch", lambda p: f"/country-tracks/{p.gb_workforce.pk}/", {"next_step": "x"}),
        ("post", lambda p: f"/follow-ups/{p.gb_open.pk}/complete/", {}),
        ("post", lambda p: "/follow-ups/", {"country": "gb", "description": "x", "due_on": days(3)}),
        ("post", lambda p: f"/counterparts/{p.gb_counterpart.pk}/leave-post/", {}),
        ("patch", lambda p: f"/engagements/{p.gb_engagement.pk}/", {"summary": "x"}),
        ("post", lambda p: "/agreements/", {"country": "gb", "kind": "mou", "title": "x", "signed_on": days(0)}),
        ("post", lambda p: "/announcements/", {"title": "x", "countries": ["gb"]}),
        ("patch", lambda p: f"/facilities/{p.facility.pk}/", {"city": "x"}),
        ("post", lambda p: f"/facilities/{p.facility.pk}/phases/", {"online_on": days(9)}),
        ("patch", lambda p: "/partnerships/gb/", {"notes": "x"}),
    ],
    ids=[
        "pause",
        "country-track patch",
        "follow-up complete",
        "follow-up create",
        "leave-post",
        "engagement patch",
        "agreement create",
        "announcement create",
        "facility patch",
        "facility phase",
        "partnership patch",
    ],
)
def test_fr_liaison_writes_nothing_for_gb(method, path, body, programme, fr_api):
    events = Event.objects.count()
    assert_error(getattr(fr_api, method)(API + path(programme), body, format="json"), 403, "permission_denied")
    assert Event.objects.count() == events


# --- objects outside a user's view are 404 ------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "path"),
    [
        ("viewer_api", lambda p: f"/engagements/{p.gb_confidential.pk}/"),
        ("fr_api", lambda p: f"/engagements/{p.gb_confidential.pk}/"),
        ("viewer_api", lambda p: f"/follow-ups/{p.gb_confidential_follow_up.pk}/"),
        ("fr_api", lambda p: f"/follow-ups/{p.gb_confidential_follow_up.pk}/"),
        ("viewer_api", lambda p: f"/announcements/{p.draft.pk}/"),
        ("viewer_api", lambda p: f"/announcements/{p.scheduled.pk}/"),
        ("fr_api", lambda p: f"/announcements/{p.draft.pk}/"),
        ("gb_api", lambda p: f"/announcements/{p.scheduled.pk}/"),
    ],
    ids=[
        "viewer confidential engagement",
        "fr liaison confidential gb engagement",
        "viewer confidential follow-up",
        "fr liaison confidential gb follow-up",
        "viewer draft announcement",
        "viewer scheduled announcement",
        "fr liaison gb draft announcement",
        "gb liaison announcement under embargo",
    ],
)
def test_out_of_scope_object_is_404(client, path, request, programme, staff_api):
    url = API + path(programme)
    assert_error(request.getfixturevalue(client).get(url), 404, "not_found")
    assert staff_api.get(url).status_code == 200  # it exists


def test_out_of_scope_object_is_404_for_writes_too(programme, fr_api, viewer_api):
    assert_error(
        fr_api.patch(f"{API}/engagements/{programme.gb_confidential.pk}/", {"summary": "x"}, format="json"), 404, "not_found"
    )
    # A reader's write is refused before the object is looked up, so it tells nothing of whether the draft exists.
    assert_error(
        viewer_api.post(f"{API}/announcements/{programme.draft.pk}/publish/", {}, format="json"), 403, "permission_denied"
    )
    assert_error(viewer_api.post(f"{API}/announcements/999999/publish/", {}, format="json"), 403, "permission_denied")
    programme.draft.refresh_from_db()
    assert programme.draft.status == "draft"


def test_confidential_engagement_is_seen_by_its_liaison_and_staff(programme, gb_api, staff_api, viewer_api):
    url = f"{API}/engagements/{programme.gb_confidential.pk}/"
    assert gb_api.get(url).json()["sensitivity"] == "confidential"
    assert staff_api.get(url).status_code == 200
    assert viewer_api.get(f"{API}/engagements/", {"sensitivity": "confidential"}).json()["count"] == 0
    assert gb_api.get(f"{API}/engagements/", {"sensitivity": "confidential"}).json()["count"] == 1


def test_liaison_sees_drafts_of_their_countries_but_not_embargoed_ones(programme, gb_api, fr_api):
    ids = {row["id"] for row in gb_api.get(f"{API}/announcements/").json()["results"]}
    assert ids == {programme.draft.pk, programme.published.pk}
    assert [row["id"] for row in fr_api.get(f"{API}/announcements/").json()["results"]] == [programme.published.pk]


# --- countries by code --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["gb", "GB", "Gb"])
def test_country_is_addressed_case_insensitively(code, programme, viewer_api):
    response = viewer_api.get(f"{API}/countries/{code}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["iso3"], body["name_en"], body["region"], body["region_name"]) == (
        "GB",
        "GBR",
        "United Kingdom",
        "150",
        "Europe",
    )
    assert body["in_programme"] is True


@pytest.mark.parametrize("path", ["/countries/zz/", "/partnerships/de/", "/partnerships/zz/", "/engagements/abc/"])
def test_unknown_country_is_404(path, programme, viewer_api):
    assert_error(viewer_api.get(API + path), 404, "not_found")


@pytest.mark.parametrize("path", ["/countries/gbr/", "/countries/g1/", "/partnerships/gbr/", "/engagement/"])
def test_unrouted_api_path_is_404_in_the_json_shape(path, programme, viewer_api):
    assert_error(viewer_api.get(API + path), 404, "not_found")


def test_partnership_by_code_case_insensitive(programme, viewer_api):
    assert viewer_api.get(f"{API}/partnerships/GB/").json() == viewer_api.get(f"{API}/partnerships/gb/").json()


def test_country_filters(programme, viewer_api):
    def codes(**params):
        return [row["code"] for row in viewer_api.get(f"{API}/countries/", {"limit": 500, **params}).json()["results"]]

    assert codes(in_programme="true") == ["FR", "KE", "GB"]  # ordered by English name
    assert codes(code="ke") == ["KE"]
    assert codes(q="kingdom") == ["GB"]
    assert "KE" in codes(region="002") and "GB" not in codes(region="002")


def test_country_representation_is_drf_field_by_field_for_every_country(programme, viewer_api):
    """The country list writes each row straight off the model: the same answer as DRF's field-by-field
    representation of ``Meta.fields`` (the one the schema documents), for every country, in or out of the programme."""
    from rest_framework import serializers

    from countries.api.serializers import CountrySerializer

    rows = viewer_api.get(f"{API}/countries/", {"limit": 500}).json()["results"]
    assert len(rows) == 249
    serializer = CountrySerializer()
    by_code = {row["code"]: row for row in rows}
    for country in Country.objects.all():
        country.in_programme = country.iso2 in {"FR", "KE", "GB"}
        assert by_code[country.iso2] == serializers.ModelSerializer.to_representation(serializer, country), country.iso2
    assert list(by_code["GB"]) == list(serializer.fields)


# --- status ------------------------------------------------------------------------------------


def expected_row(status: CountryStatus) -> dict:
    """What the API must answer for a rollup row."""
    c = status.country
    return {
        "country": c.iso2,
        "name_en": c.name_en,
        "name_fr": c.name_fr,
        "region": c.region,
        "furthest_stage": status.furthest_stage_key,
        "readiness": f"{status.readiness:.1f}",
        "worst_health": status.worst_health,
        "engagement_count": status.engagement_count,
        "last_engagement_on": status.last_engagement_on.isoformat() if status.last_engagement_on else None,
        "open_follow_ups": status.open_follow_ups,
        "overdue_follow_ups": status.overdue_follow_ups,
        "mw_planned": f"{status.mw_planned:.2f}",
        "mw_operational": f"{status.mw_operational:.2f}",
        "tracks": status.tracks,
        "computed_at": status.computed_at.isoformat().replace("+00:00", "Z"),
    }


def test_country_status_written_out_for_gb(programme, viewer_api):
    today = programme.today
    response = viewer_api.get(f"{API}/countries/gb/status/")
    assert response.status_code == 200
    assert ETAG.match(response["ETag"])
    body = response.json()
    computed_at = body.pop("computed_at")
    not_started = {
        "stage": "not_started",
        "stage_position": 0,
        "health": "inactive",
        "days_in_stage": 0,
        "last_engagement_on": None,
        "open_follow_ups": 0,
        "overdue_follow_ups": 0,
        "resume_on": None,
    }
    assert body == {
        "country": "GB",
        "name_en": "United Kingdom",
        "name_fr": "Royaume-Uni",
        "region": "150",
        "furthest_stage": "negotiating",
        "readiness": "15.0",  # (2/5 + 1/5) / 4 tracks
        "worst_health": "at_risk",
        # The confidential engagement (2 days ago) and its follow-up are left out of the figures.
        "engagement_count": 1,
        "last_engagement_on": str(today - datetime.timedelta(days=5)),
        "open_follow_ups": 2,
        "overdue_follow_ups": 1,
        "mw_planned": "50.00",
        "mw_operational": "10.00",
        "tracks": [
            {
                "track": "workforce",
                "stage": "negotiating",
                "stage_position": 2,
                "health": "at_risk",
                "days_in_stage": 0,
                "last_engagement_on": str(today - datetime.timedelta(days=5)),
                "open_follow_ups": 1,
                "overdue_follow_ups": 1,
                "resume_on": None,
            },
            {
                "track": "public_services",
                "stage": "exploring",
                "stage_position": 1,
                "health": "on_track",
                "days_in_stage": 0,
                "last_engagement_on": None,
                "open_follow_ups": 0,
                "overdue_follow_ups": 0,
                "resume_on": None,
            },
            {"track": "safety_standards", **not_started},
            {"track": "data_centres", **not_started},
        ],
    }
    assert computed_at == CountryStatus.objects.get(country__iso2="GB").computed_at.isoformat().replace("+00:00", "Z")


def test_country_status_of_a_paused_track(programme, viewer_api):
    body = viewer_api.get(f"{API}/countries/KE/status/").json()
    public = next(t for t in body["tracks"] if t["track"] == "public_services")
    assert (body["worst_health"], body["furthest_stage"], body["readiness"]) == ("paused", "exploring", "5.0")
    assert (public["stage"], public["stage_position"], public["health"]) == ("paused", 1, "paused")
    assert public["resume_on"] == str(programme.today + datetime.timedelta(days=90))


@pytest.mark.parametrize("code", ["gb", "FR", "ke"])
def test_country_status_matches_the_rollup_row(code, programme, viewer_api):
    assert viewer_api.get(f"{API}/countries/{code}/status/").json() == expected_row(
        CountryStatus.objects.select_related("country").get(country__iso2=code.upper())
    )


@pytest.mark.parametrize("path", ["/countries/de/status/", "/countries/zz/status/", "/countries/gbr/status/"])
def test_country_status_outside_the_programme_is_404(path, programme, viewer_api):
    assert_error(viewer_api.get(API + path), 404, "not_found")


def test_status_list_matches_the_rollup_rows(programme, viewer_api):
    response = viewer_api.get(f"{API}/status/")
    assert response.status_code == 200
    assert ETAG.match(response["ETag"])
    body = response.json()
    rows = CountryStatus.objects.select_related("country").order_by("country__iso2")
    assert body["count"] == 3
    assert body["results"] == [expected_row(row) for row in rows]
    assert body["computed_at"] == max(r.computed_at for r in rows).isoformat().replace("+00:00", "Z")


def test_status_reads_the_rollup_not_the_history(programme, viewer_api, staff_user):
    """A change is seen in the status only once the rollup has run (which every write's event triggers)."""
    from partnerships import services

    services.country_track_move(
        actor=staff_user, country_track=programme.fr_workforce, to_stage=programme.fr_workforce.track.stages.get(key="agreed")
    )
    assert viewer_api.get(f"{API}/countries/fr/status/").json()["furthest_stage"] == "exploring"
    services.rollup_countries()
    assert viewer_api.get(f"{API}/countries/fr/status/").json()["furthest_stage"] == "agreed"


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({}, ["FR", "GB", "KE"]),
        ({"region": "150"}, ["FR", "GB"]),
        ({"region": "002"}, ["KE"]),
        ({"region": "019"}, []),
        ({"stage": "negotiating"}, ["GB"]),
        ({"stage": "exploring"}, ["FR", "KE"]),
        ({"stage": "operational"}, []),
        ({"health": "at_risk"}, ["GB"]),
        ({"health": "paused"}, ["KE"]),
        ({"health": "on_track"}, ["FR"]),
        ({"track": "workforce"}, ["FR", "GB", "KE"]),
        ({"track": "workforce", "stage": "exploring"}, ["FR"]),
        ({"track": "workforce", "stage": "negotiating"}, ["GB"]),
        ({"track": "workforce", "health": "inactive"}, ["KE"]),
        ({"track": "public_services", "stage": "exploring"}, ["GB"]),
        ({"track": "public_services", "health": "paused"}, ["KE"]),
        ({"track": "public_services", "stage": "paused", "health": "paused"}, ["KE"]),
        ({"track": "safety_standards", "stage": "not_started"}, ["FR", "GB", "KE"]),
        ({"region": "150", "health": "on_track"}, ["FR"]),
        ({"region": "150", "track": "workforce", "stage": "exploring"}, ["FR"]),
    ],
    ids=lambda v: "&".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else None,
)
def test_status_filters(params, codes, programme, viewer_api):
    body = viewer_api.get(f"{API}/status/", params).json()
    assert [row["country"] for row in body["results"]] == codes
    assert body["count"] == len(codes)


@pytest.mark.parametrize("params", [{"health": "sick"}, {"region": "999"}])
def test_status_filter_with_an_unknown_choice_is_400(params, programme, viewer_api):
    assert_invalid(viewer_api.get(f"{API}/status/", params), *params)


def test_status_for_anonymous_and_no_role(programme, anon_api, norole_api):
    for url in (f"{API}/status/", f"{API}/countries/gb/status/"):
        assert_error(anon_api.get(url), 401, "not_authenticated")
        assert_error(norole_api.get(url), 403, "permission_denied")


# --- users/me ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "username", "roles", "countries", "token"),
    [
        ("staff_api", "staff", ["programme_staff"], [], "staff sync"),
        ("gb_api", "gb-liaison", ["liaison"], ["GB"], "gb ministry sync"),
        ("fr_api", "fr-liaison", ["liaison"], ["FR"], "fr ministry sync"),
        ("viewer_api", "viewer", ["viewer"], [], "dashboard"),
    ],
)
def test_users_me(client, username, roles, countries, token, request):
    body = request.getfixturevalue(client).get(f"{API}/users/me/").json()
    assert (body["username"], body["roles"], body["countries"], body["token"]) == (username, roles, countries, token)
    assert body["email"] == f"{username}@example.org"


def test_users_me_lists_every_country_and_role(db, gb_liaison):
    from django.contrib.auth.models import Group

    from countries.models import LiaisonAssignment
    from tests.api.conftest import token_client

    LiaisonAssignment.objects.create(user=gb_liaison, country=Country.objects.get(iso2="IE"))
    gb_liaison.groups.add(Group.objects.get(name="viewer"))
    body = token_client(gb_liaison, "two").get(f"{API}/users/me/").json()
    assert body["roles"] == ["liaison", "viewer"] and body["countries"] == ["GB", "IE"]


def test_users_me_with_a_session_has_no_token(db, viewer_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(viewer_user)
    assert client.get(f"{API}/users/me/").json()["token"] is None


def test_users_me_refuses_anonymous_and_no_role(anon_api, norole_api):
    assert_error(anon_api.get(f"{API}/users/me/"), 401, "not_authenticated")
    assert_error(norole_api.get(f"{API}/users/me/"), 403, "permission_denied")


# --- actions: one success and one refusal each ----------------------------------------------------


def post(client, path, body=None):
    return client.post(API + path, body or {}, format="json")


def test_move_forward_with_evidence(programme, gb_api, gb_liaison):
    ct = programme.gb_workforce
    response = post(
        gb_api, f"/country-tracks/{ct.pk}/move/", {"to_stage": "agreed", "evidence_agreement": programme.gb_agreement.pk}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["stage"], response.json()["ladder_stage"]) == ("agreed", "agreed")
    change = StageChange.objects.filter(country_track=ct).latest("changed_at", "id")
    assert (change.from_stage.key, change.to_stage.key, change.actor, change.evidence_agreement) == (
        "negotiating",
        "agreed",
        gb_liaison,
        programme.gb_agreement,
    )
    assert Event.objects.filter(kind="stage.moved", subject_id=str(ct.pk), actor=gb_liaison).count() == 1
    history = gb_api.get(f"{API}/stage-changes/", {"country_track_id": ct.pk}).json()["results"]
    assert history[0]["to_stage"] == "agreed" and history[0]["evidence_agreement"] == programme.gb_agreement.pk


def test_move_back_with_a_note(programme, staff_api):
    response = post(
        staff_api, f"/country-tracks/{programme.gb_workforce.pk}/move/", {"to_stage": "exploring", "note": "Talks stopped"}
    )
    assert response.status_code == 200 and response.json()["stage"] == "exploring"


def test_move_of_a_paused_track_is_refused(programme, staff_api):
    response = post(staff_api, f"/country-tracks/{programme.ke_public.pk}/move/", {"to_stage": "negotiating"})
    assert_invalid(response, "to_stage")
    assert "resume it" in response.json()["errors"][0]["detail"]


def test_pause(programme, gb_api):
    resume_on = days(45)
    response = post(
        gb_api, f"/country-tracks/{programme.gb_public.pk}/pause/", {"reason": "Budget review", "resume_on": resume_on}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stage"], body["ladder_stage"], body["pause_reason"], body["resume_on"]) == (
        "paused",
        "exploring",
        "Budget review",
        resume_on,
    )


def test_pause_of_a_paused_track_is_refused(programme, staff_api):
    response = post(staff_api, f"/country-tracks/{programme.ke_public.pk}/pause/", {"reason": "Again", "resume_on": days(9)})
    assert_invalid(response, "non_field_errors")


def test_resume(programme, staff_api):
    response = post(staff_api, f"/country-tracks/{programme.ke_public.pk}/resume/", {"note": "Elections over"})
    assert response.status_code == 200
    body = response.json()
    assert (body["stage"], body["pause_reason"], body["resume_on"]) == ("exploring", "", None)


def test_resume_of_a_track_that_is_not_paused_is_refused(programme, staff_api):
    response = post(staff_api, f"/country-tracks/{programme.gb_workforce.pk}/resume/")
    assert_invalid(response, "non_field_errors")
    assert response.json()["errors"][0]["detail"] == "Only a paused track can be resumed."


def test_withdraw(programme, gb_api):
    response = post(gb_api, f"/country-tracks/{programme.gb_safety.pk}/withdraw/", {"reason": "Not a priority"})
    assert response.status_code == 200
    assert (response.json()["stage"], response.json()["pause_reason"]) == ("withdrawn", "Not a priority")


def test_withdraw_twice_is_refused(programme, staff_api):
    url = f"/country-tracks/{programme.gb_safety.pk}/withdraw/"
    assert post(staff_api, url, {"reason": "No"}).status_code == 200
    assert_invalid(post(staff_api, url, {"reason": "No again"}), "non_field_errors")


def test_follow_up_complete(programme, gb_api):
    response = post(gb_api, f"/follow-ups/{programme.gb_open.pk}/complete/")
    assert response.status_code == 200
    assert response.json()["done_by"] == "gb-liaison" and response.json()["done_at"]
    assert gb_api.get(f"{API}/follow-ups/", {"done": "false"}).json()["count"] == 2  # overdue + confidential


def test_follow_up_owner_must_work_on_the_country(programme, staff_api):
    body = {"country": "gb", "description": "FR helps", "due_on": days(3), "owner": "fr-liaison"}
    assert_invalid(post(staff_api, "/follow-ups/", body), "owner")


def test_follow_up_complete_twice_is_refused(programme, gb_api):
    response = post(gb_api, f"/follow-ups/{programme.gb_done.pk}/complete/")
    assert_invalid(response, "non_field_errors")


def test_follow_up_complete_by_viewer_is_refused(programme, viewer_api):
    assert_error(post(viewer_api, f"/follow-ups/{programme.gb_open.pk}/complete/"), 403, "permission_denied")


def test_follow_up_reopen(programme, gb_api):
    response = post(gb_api, f"/follow-ups/{programme.gb_done.pk}/reopen/")
    assert response.status_code == 200
    assert (response.json()["done_at"], response.json()["done_by"]) == (None, None)


def test_follow_up_reopen_of_an_open_one_is_refused(programme, gb_api):
    assert_invalid(post(gb_api, f"/follow-ups/{programme.gb_open.pk}/reopen/"), "non_field_errors")


def test_announcement_schedule(programme, staff_api):
    until = (timezone.now() + datetime.timedelta(days=3)).replace(microsecond=0)
    response = post(staff_api, f"/announcements/{programme.draft.pk}/schedule/", {"embargo_until": until.isoformat()})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "scheduled"
    programme.draft.refresh_from_db()
    assert programme.draft.embargo_until == until


def test_announcement_schedule_by_liaison_is_refused(programme, gb_api):
    until = (timezone.now() + datetime.timedelta(days=3)).isoformat()
    response = post(gb_api, f"/announcements/{programme.draft.pk}/schedule/", {"embargo_until": until})
    assert_error(response, 403, "permission_denied")
    assert response.json()["errors"][0]["detail"] == "Only programme staff may do this."


def test_announcement_publish(programme, staff_api, viewer_api):
    response = post(staff_api, f"/announcements/{programme.draft.pk}/publish/")
    assert response.status_code == 200
    assert response.json()["status"] == "published" and response.json()["published_at"]
    assert viewer_api.get(f"{API}/announcements/{programme.draft.pk}/").status_code == 200


def test_announcement_publish_under_embargo_is_refused(programme, staff_api):
    response = post(staff_api, f"/announcements/{programme.scheduled.pk}/publish/")
    assert_invalid(response, "non_field_errors")
    assert "under embargo" in response.json()["errors"][0]["detail"]


def test_announcement_withdraw(programme, staff_api, viewer_api):
    response = post(staff_api, f"/announcements/{programme.published.pk}/withdraw/", {"reason": "Premature"})
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert_error(viewer_api.get(f"{API}/announcements/{programme.published.pk}/"), 404, "not_found")


def test_announcement_withdraw_by_viewer_is_refused(programme, viewer_api):
    response = post(viewer_api, f"/announcements/{programme.published.pk}/withdraw/", {"reason": "Mine now"})
    assert_error(response, 403, "permission_denied")


def test_counterpart_leave_post(programme, gb_api):
    left_on = days(-1)
    response = post(gb_api, f"/counterparts/{programme.gb_counterpart.pk}/leave-post/", {"left_on": left_on})
    assert response.status_code == 200
    assert (response.json()["active_to"], response.json()["is_active"]) == (left_on, False)
    assert gb_api.get(f"{API}/counterparts/", {"active": "true", "country": "gb"}).json()["count"] == 0


def test_counterpart_leave_post_twice_is_refused(programme, gb_api):
    url = f"/counterparts/{programme.gb_counterpart.pk}/leave-post/"
    assert post(gb_api, url).json()["active_to"] == days(0)
    response = post(gb_api, url)
    assert_invalid(response, "non_field_errors")
    assert "already left" in response.json()["errors"][0]["detail"]


def test_facility_add_phase(programme, gb_api):
    body = {"name": "Phase 2", "online_on": days(400), "power_mw": "25.50", "accelerator_count": 4096, "h100_equivalents": "4096"}
    response = post(gb_api, f"/facilities/{programme.facility.pk}/phases/", body)
    assert response.status_code == 201, response.content
    phases = {p["name"]: p for p in response.json()["phases"]}
    assert set(phases) == {"Pilot", "Phase 1", "Phase 2"}
    assert (phases["Phase 2"]["power_mw"], phases["Phase 2"]["state"]) == ("25.50", "planned")
    assert CapacityPhase.objects.filter(facility=programme.facility).count() == 3


def test_facility_add_phase_with_negative_power_is_refused(programme, staff_api):
    response = post(staff_api, f"/facilities/{programme.facility.pk}/phases/", {"online_on": days(9), "power_mw": "-1"})
    assert response.status_code == 400
    assert CapacityPhase.objects.filter(facility=programme.facility).count() == 2


def test_facility_add_partner(programme, staff_api):
    other = staff_api.post(f"{API}/organisations/", {"name": "Chips Inc"}, format="json").json()
    response = post(
        staff_api, f"/facilities/{programme.facility.pk}/partners/", {"organisation": other["id"], "role": "chip_supplier"}
    )
    assert response.status_code == 201, response.content
    assert {(p["organisation_name"], p["role"]) for p in response.json()["partners"]} == {
        ("Northern Compute Ltd", "builder"),
        ("Chips Inc", "chip_supplier"),
    }


def test_facility_add_same_partner_role_twice_is_refused(programme, staff_api):
    body = {"organisation": programme.organisation.pk, "role": "builder"}
    assert post(staff_api, f"/facilities/{programme.facility.pk}/partners/", body).status_code == 400
    assert FacilityPartner.objects.filter(facility=programme.facility).count() == 1


# --- filters of the lists -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "params", "expected"),
    [
        ("engagements", {"country": "fr"}, 1),
        ("engagements", {"track": "workforce"}, 1),
        ("engagements", lambda p: {"occurred_on_after": days(-4)}, 1),  # the date of the run, not of collection
        ("engagements", {"q": "skills"}, 1),
        ("follow-ups", {"overdue": "true"}, 1),
        ("follow-ups", {"done": "true"}, 1),
        ("country-tracks", {"country": "gb", "stage": "negotiating"}, 1),
        ("country-tracks", {"health": "paused"}, 1),
        ("country-tracks", {"track": "workforce"}, 3),
        ("stage-changes", {"country": "ke"}, 6),
        ("stage-changes", {"to_stage": "exploring"}, 4),
        ("counterparts", {"country": "FR"}, 1),
        ("agreements", {"track": "workforce"}, 1),
        ("announcements", {"country": "fr"}, 1),
        ("facilities", lambda p: {"organisation_id": p.organisation.pk}, 1),
        ("facilities", {"organisation_id": 999999}, 0),
        ("organisations", {"kind": "company"}, 1),
        ("partnerships", {"region": "002"}, 1),
        ("tracks", {"is_active": "true"}, 4),
    ],
)
def test_list_filters(resource, params, expected, programme, viewer_api):
    params = params(programme) if callable(params) else params
    assert viewer_api.get(f"{API}/{resource}/", params).json()["count"] == expected


@pytest.mark.parametrize(
    ("resource", "params"),
    [
        ("engagements", {"occurred_on_after": "not-a-date"}),
        ("engagements", {"country_id": "x"}),
        ("follow-ups", {"due_on_before": "31/12/2026"}),
        ("facilities", {"status": "exploded"}),
        ("country-tracks", {"health": "sick"}),
    ],
)
def test_list_filter_with_bad_value_is_400(resource, params, programme, viewer_api):
    fields = [k.removesuffix("_after").removesuffix("_before") for k in params]
    assert_invalid(viewer_api.get(f"{API}/{resource}/", params), *fields)


def test_page_size_is_capped(programme, viewer_api, monkeypatch):
    from core.api.pagination import LimitOffsetPagination

    assert len(viewer_api.get(f"{API}/countries/", {"limit": 100000}).json()["results"]) == 249  # under the cap of 500
    monkeypatch.setattr(LimitOffsetPagination, "max_limit", 10)
    body = viewer_api.get(f"{API}/countries/", {"limit": 100000}).json()
    assert body["count"] == 249 and len(body["results"]) == 10


def test_a_new_engagement_is_answered_as_it_reads_back_without_reading_it_back(programme, staff_api, staff_user):
    # Names whose order differs between code points and a linguistic collation: the answer must follow the database.
    for name in ("alice Adviser", "Émile Expert", "Bob Builder"):
        country_services.counterpart_create(actor=staff_user, country=programme.gb, name=name)
    body = {
        "country": "gb",
        "occurred_on": days(0),
        "kind": "meeting",
        "summary": "  Workshop  ",
        # Out of their order, and one twice: the answer lists each once, in the order a read gives.
        "tracks": ["safety_standards", "workforce", "workforce"],
        "counterparts": list(Counterpart.objects.filter(country=programme.gb).values_list("pk", flat=True)),
    }
    with CaptureQueriesContext(connection) as ctx:
        created = staff_api.post(f"{API}/engagements/", body, format="json")
    assert created.status_code == 201
    inserted = [i for i, q in enumerate(ctx.captured_queries) if q["sql"].startswith('INSERT INTO "partnerships_engagement"')]
    reads_after = [q["sql"] for q in ctx.captured_queries[inserted[0] :] if q["sql"].startswith("SELECT")]
    # The row is not read back (nor its country or author): only its two relations, as a list prefetches them.
    assert not [sql for sql in reads_after if 'FROM "partnerships_engagement" ' in sql], reads_after
    assert len([sql for sql in reads_after if "_prefetch_related_val_engagement_id" in sql]) == 2, reads_after
    read = staff_api.get(f"{API}/engagements/{created.json()['id']}/")
    assert created.json() == read.json()
    assert read.json()["tracks"] == ["workforce", "safety_standards"] and read.json()["summary"] == "Workshop"
    assert sorted(read.json()["counterparts"]) == sorted(body["counterparts"])

    with CaptureQueriesContext(connection) as ctx:
        plain = staff_api.post(f"{API}/engagements/", {**body, "tracks": [], "counterparts": []}, format="json")
    inserted = [i for i, q in enumerate(ctx.captured_queries) if q["sql"].startswith('INSERT INTO "partnerships_engagement"')]
    reads_after = [q["sql"] for q in ctx.captured_queries[inserted[0] :] if q["sql"].startswith("SELECT")]
    assert reads_after == []  # nothing to read back at all
    assert plain.json() == staff_api.get(f"{API}/engagements/{plain.json()['id']}/").json()


def test_an_announcement_names_its_agreements_and_facilities_through_the_api_as_in_the_portal(programme, staff_api):
    links = {"agreements": [programme.gb_agreement.pk], "facilities": [programme.facility.pk]}
    created = staff_api.post("/api/v1/announcements/", {"title": "Campus", "countries": ["gb"], **links}, format="json")
    assert created.status_code == 201, created.json()
    assert {key: created.json()[key] for key in links} == links
    url = f"/api/v1/announcements/{created.json()['id']}/"
    cleared = staff_api.patch(url, {"agreements": [], "facilities": []}, format="json")
    assert (cleared.json()["agreements"], cleared.json()["facilities"]) == ([], [])

    # The service's rule holds here too: the links must be of the countries named.
    refused = staff_api.post("/api/v1/announcements/", {"title": "Stray", "countries": ["fr"], **links}, format="json")
    assert refused.status_code == 400 and "agreements" in json.dumps(refused.json())
