"""Query counts of every list and status endpoint: the same for a few rows as for sixty, and pinned.

Each case measures one list with the rows of the ``programme`` fixture (a handful), adds about sixty
rows of that resource with every relation the representation shows filled in (so a relation read
per row would show up), and measures again. The count must not grow with the rows, and it is pinned
(after NetBox's ``query_counts.json`` and Zulip's ``assert_database_query_count``): a change to an
endpoint's queries fails here until someone looks at it and updates the number.

The client authenticates with a real API token; after the warm-up request the token and its user's roles
come from the cache (``core.api.auth_cache``), so authentication costs no query in these counts.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from announcements.models import Announcement
from countries.models import Counterpart, Country
from engagements.models import Agreement, Engagement, FollowUp
from infrastructure.models import CapacityPhase, Facility, FacilityPartner, Organisation
from partnerships.models import CountryTrack, Partnership, StageChange
from partnerships.rollup import rollup_countries
from tracks.defaults import create_default_stages
from tracks.models import Stage, Track

pytestmark = pytest.mark.django_db

API = "/api/v1"
MANY = 60


def measure(client, url: str) -> tuple[int, dict]:
    """Queries of one GET, after a first GET that warms what is done once (the token's last-used time)."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def rows_in(body: dict) -> int:
    return len(body["results"])


# --- builders of many rows (bulk, with every relation the representation shows) -------------------


def new_countries(n: int) -> list[Country]:
    return list(Country.objects.filter(partnership__isnull=True).exclude(iso2__in=["GB", "FR", "KE"]).order_by("iso2")[:n])


def add_partnerships(n: int, *, lead=None) -> list[Country]:
    """``n`` more partnerships, each with its not-started cells (bulk: no services, no events)."""
    countries = new_countries(n)
    today, now = timezone.localdate(), timezone.now()
    Partnership.objects.bulk_create(
        [Partnership(country=c, started_on=today, status="engaged", lead_liaison=lead, notes="bulk") for c in countries]
    )
    starts = {s.track_id: s for s in Stage.objects.filter(kind="ladder", position=0)}
    CountryTrack.objects.bulk_create(
        [
            CountryTrack(country=c, track=t, stage=starts[t.pk], ladder_stage=starts[t.pk], stage_changed_at=now, owner=lead)
            for c in countries
            for t in Track.objects.filter(is_active=True)
        ]
    )
    return countries


def grow_partnerships(p, staff):
    add_partnerships(MANY - 3, lead=staff)


def grow_country_tracks(p, staff):
    add_partnerships(12, lead=staff)  # 12 countries x 4 tracks


def grow_stage_changes(p, staff):
    ct = p.gb_workforce
    stages = list(Stage.objects.filter(track=ct.track_id, kind="ladder").order_by("position"))
    now = timezone.now()
    StageChange.objects.bulk_create(
        [
            StageChange(
                country_track=ct,
                from_stage=stages[i % 5],
                to_stage=stages[i % 5 + 1],
                actor=staff,
                changed_at=now - datetime.timedelta(minutes=i),
                note=f"step {i}",
                evidence_engagement=p.gb_engagement,
                evidence_agreement=p.gb_agreement,
                evidence_announcement=p.published,
            )
            for i in range(MANY - 18)
        ]
    )


def grow_engagements(p, staff):
    today = timezone.localdate()
    engagements = Engagement.objects.bulk_create(
        [
            Engagement(
                country=p.gb,
                occurred_on=today - datetime.timedelta(days=i % 30),
                kind="call",
                summary=f"call {i}",
                logged_by=staff,
            )
            for i in range(MANY - 3)
        ]
    )
    Engagement.tracks.through.objects.bulk_create(
        [
            Engagement.tracks.through(engagement=e, track=t, **e.track_link_fields())
            for e in engagements
            for t in (p.workforce, p.public_services)
        ]
    )
    Engagement.counterparts.through.objects.bulk_create(
        [Engagement.counterparts.through(engagement=e, counterpart=p.gb_counterpart) for e in engagements]
    )


def grow_follow_ups(p, staff):
    today, now = timezone.localdate(), timezone.now()
    FollowUp.objects.bulk_create(
        [
            FollowUp(
                country=p.gb,
                engagement=p.gb_engagement,
                track=p.workforce,
                description=f"task {i}",
                owner=staff,
                due_on=today + datetime.timedelta(days=i - 30),
                done_at=now if i % 2 else None,
                done_by=staff if i % 2 else None,
            )
            for i in range(MANY - 4)
        ]
    )


def grow_counterparts(p, staff):
    Counterpart.objects.bulk_create([Counterpart(country=p.gb, name=f"Official {i}", title="Director") for i in range(MANY - 2)])


def grow_agreements(p, staff):
    today = timezone.localdate()
    agreements = Agreement.objects.bulk_create(
        [
            Agreement(country=p.gb, kind="mou", title=f"MoU {i}", signed_on=today - datetime.timedelta(days=i), created_by=staff)
            for i in range(MANY - 1)
        ]
    )
    Agreement.tracks.through.objects.bulk_create([Agreement.tracks.through(agreement=a, track=p.workforce) for a in agreements])


def grow_announcements(p, staff):
    now = timezone.now()
    announcements = Announcement.objects.bulk_create(
        [
            Announcement(title=f"News {i}", status="published", published_at=now - datetime.timedelta(hours=i), created_by=staff)
            for i in range(MANY - 3)
        ]
    )
    for through, name, value in (
        (Announcement.countries.through, "country", p.gb),
        (Announcement.tracks.through, "track", p.workforce),
        (Announcement.agreements.through, "agreement", p.gb_agreement),
        (Announcement.facilities.through, "facility", p.facility),
    ):
        through.objects.bulk_create([through(announcement=a, **{name: value}) for a in announcements])


def grow_facilities(p, staff):
    today = timezone.localdate()
    facilities = Facility.objects.bulk_create(
        [Facility(country=p.gb, name=f"Site {i}", status="planned") for i in range(MANY - 1)]
    )
    CapacityPhase.objects.bulk_create([CapacityPhase(facility=f, online_on=today, power_mw=5) for f in facilities])
    FacilityPartner.objects.bulk_create(
        [FacilityPartner(facility=f, organisation=p.organisation, role="builder") for f in facilities]
    )


def grow_organisations(p, staff):
    Organisation.objects.bulk_create([Organisation(name=f"Partner {i}", country=p.gb) for i in range(MANY - 1)])


def grow_tracks(p, staff):
    tracks = Track.objects.bulk_create(
        [Track(key=f"extra_{i}", name_en=f"Extra {i}", position=100 + i, is_active=i % 2 == 0) for i in range(MANY - 4)]
    )
    for track in tracks:
        create_default_stages(Stage, track)


def grow_status(p, staff):
    add_partnerships(MANY - 3, lead=staff)
    rollup_countries()


# Every count starts with the same four queries for a programme-staff token: the token with its user,
# the user's other tokens (knox's clean-up of expired ones), the user's groups (roles), and the
# page's COUNT(*) (status: its aggregate for the ETag). Then one query for the rows, and one per
# prefetched relation: engagements +2 (tracks, counterparts), agreements +1 (tracks), announcements
# +4 (countries, tracks, agreements, facilities), facilities +3 (phases, partner roles, their
# organisations), tracks +1 (stages).


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    grow: Callable
    queries: int  # pinned: update only with an explanation of what changed
    small_url: str = ""  # a URL for the few-rows measurement, when it differs (countries: same rows, smaller page)
    # The few rows' count when it differs: a relation read apart (prefetched) costs its query only when some row of
    # the page has one; however many rows, never more than ``queries``.
    few_queries: int | None = None

    def __str__(self):
        return self.name


CASES = [
    Case("countries", f"{API}/countries/?limit={MANY}", lambda p, s: None, queries=2, small_url=f"{API}/countries/?limit=3"),
    Case("partnerships", f"{API}/partnerships/?limit=100", grow_partnerships, queries=2),
    Case("country-tracks", f"{API}/country-tracks/?limit=100", grow_country_tracks, queries=2),
    # The country track, its country and track and the stage joined; the stage left, the actor and the three kinds of
    # evidence read apart (joined too, PostgreSQL planned for longer than it ran: partnerships.selectors).
    Case("stage-changes", f"{API}/stage-changes/?limit=100", grow_stage_changes, queries=7, few_queries=4),
    Case("engagements", f"{API}/engagements/?limit=100", grow_engagements, queries=4),
    Case("follow-ups", f"{API}/follow-ups/?limit=100", grow_follow_ups, queries=2),
    Case("counterparts", f"{API}/counterparts/?limit=100", grow_counterparts, queries=2),
    Case("agreements", f"{API}/agreements/?limit=100", grow_agreements, queries=3),
    Case("announcements", f"{API}/announcements/?limit=100", grow_announcements, queries=6),
    Case("facilities", f"{API}/facilities/?limit=100", grow_facilities, queries=5),
    Case("organisations", f"{API}/organisations/?limit=100", grow_organisations, queries=2),
    Case("tracks", f"{API}/tracks/?limit=100", grow_tracks, queries=3),
    # The warm-up request has put the table's version and the JSON body of this ETag in the cache.
    Case("status", f"{API}/status/", grow_status, queries=0),
]


@pytest.fixture
def api_for(staff_user, gb_liaison, viewer_user):
    from tests.api.conftest import token_client

    users = {"staff": staff_user, "liaison": gb_liaison, "viewer": viewer_user}
    return lambda role: token_client(users[role], f"query counts ({role})")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_list_queries_do_not_grow_with_rows(case, programme, staff_user, api_for):
    client = api_for("staff")
    few, body = measure(client, case.small_url or case.url)
    assert rows_in(body) <= 18
    case.grow(programme, staff_user)
    many, body = measure(client, case.url)
    assert rows_in(body) >= MANY
    assert (few, many) == (case.queries if case.few_queries is None else case.few_queries, case.queries)


# Lists scoped to the reader: a liaison's reads add one query for their assigned countries.
SCOPED = [
    ("engagements", grow_engagements, {"liaison": 5, "viewer": 4}),
    ("follow-ups", grow_follow_ups, {"liaison": 3, "viewer": 2}),
    ("announcements", grow_announcements, {"liaison": 7, "viewer": 6}),
]


@pytest.mark.parametrize("role", ["liaison", "viewer"])
@pytest.mark.parametrize(("name", "grow", "expected"), SCOPED, ids=[s[0] for s in SCOPED])
def test_scoped_list_queries_do_not_grow_with_rows(name, grow, expected, role, programme, staff_user, api_for, request):
    client = api_for(role)
    url = f"{API}/{name}/?limit=100"
    few, body = measure(client, url)
    assert rows_in(body) <= 5
    grow(programme, staff_user)
    many, body = measure(client, url)
    assert rows_in(body) >= MANY - 5  # the few the reader may not see are not grown again
    assert (few, many) == (expected[role], expected[role])


# One object: the same base, then the object and its prefetched relations.
DETAILS = [
    ("countries", lambda p: f"{API}/countries/gb/", 1),
    ("partnerships", lambda p: f"{API}/partnerships/gb/", 1),
    ("country-tracks", lambda p: f"{API}/country-tracks/{p.gb_workforce.pk}/", 1),
    # With the stage left and the actor read apart (see the list's case above).
    ("stage-changes", lambda p: f"{API}/stage-changes/{p.gb_workforce.stage_changes.latest('changed_at', 'id').pk}/", 3),
    ("engagements", lambda p: f"{API}/engagements/{p.gb_engagement.pk}/", 3),
    ("follow-ups", lambda p: f"{API}/follow-ups/{p.gb_open.pk}/", 1),
    ("counterparts", lambda p: f"{API}/counterparts/{p.gb_counterpart.pk}/", 1),
    ("agreements", lambda p: f"{API}/agreements/{p.gb_agreement.pk}/", 2),
    ("announcements", lambda p: f"{API}/announcements/{p.published.pk}/", 5),
    ("facilities", lambda p: f"{API}/facilities/{p.facility.pk}/", 4),
    ("organisations", lambda p: f"{API}/organisations/{p.organisation.pk}/", 1),
    ("tracks", lambda p: f"{API}/tracks/workforce/", 2),
    ("country status", lambda p: f"{API}/countries/gb/status/", 0),  # as the bulk status
    # users/me: the groups it lists as roles, assigned countries' codes.
    ("users/me", lambda p: f"{API}/users/me/", 2),
]


@pytest.mark.parametrize(("name", "url", "expected"), DETAILS, ids=[d[0] for d in DETAILS])
def test_detail_queries_are_pinned(name, url, expected, programme, api_for):
    n, _body = measure(api_for("staff"), url(programme))
    assert n == expected
