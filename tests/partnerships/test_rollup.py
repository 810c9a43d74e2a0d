"""The status rollup on small hand-built cases, with the expected figures written out."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from countries.models import CountryStatus
from engagements.models import Engagement
from infrastructure.models import CapacityPhase, Facility
from partnerships.models import CountryTrack
from partnerships.rollup import rollup_countries, rollup_country
from partnerships.services import partnership_create
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 6, 30, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def ago(days):
    return TODAY - datetime.timedelta(days=days)


def place(country, track_key, stage_key, *, days_ago, ladder_key=None):
    """Put a cell at a stage since ``days_ago`` (hand-built: bypasses the services on purpose)."""
    stage = factories.stage(track_key, stage_key)
    ladder = factories.stage(track_key, ladder_key) if ladder_key else stage
    updated = CountryTrack.objects.filter(country=country, track__key=track_key).update(
        stage=stage, ladder_stage=ladder, stage_changed_at=NOW - datetime.timedelta(days=days_ago)
    )
    assert updated == 1


def engaged(country, days_ago, *track_keys, **fields):
    return factories.EngagementFactory(
        country=country, occurred_on=ago(days_ago), tracks=[factories.track(k) for k in track_keys], **fields
    )


def follow_up(country, due_in_days, track_key=None, **fields):
    track = factories.track(track_key) if track_key else None
    return factories.FollowUpFactory(country=country, due_on=TODAY + datetime.timedelta(days=due_in_days), track=track, **fields)


def cell(country, track_key="workforce"):
    return CountryTrack.objects.get(country=country, track__key=track_key)


@pytest.fixture
def fr():
    return factories.country("FR")


@pytest.fixture
def partners(staff_user, gb, fr):
    partnership_create(actor=staff_user, country=gb)
    partnership_create(actor=staff_user, country=fr)
    return gb, fr


# --- per-track health -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "health"), [(59, "on_track"), (60, "on_track"), (61, "stalled")])
def test_a_track_stalls_when_its_last_engagement_is_older_than_the_threshold(partners, days, health):
    gb, _fr = partners
    place(gb, "workforce", "exploring", days_ago=200)
    engaged(gb, days, "workforce")

    rollup_countries(now=NOW)

    ct = cell(gb)
    assert (ct.health, ct.last_engagement_on, ct.health_computed_at) == (health, ago(days), NOW)
    assert CountryStatus.objects.get(country=gb).tracks[0]["health"] == health


def test_a_track_keeps_its_last_published_engagement_and_its_last_activity_apart(partners):
    """A confidential engagement keeps the track alive without showing in the figures; a voided one does neither."""
    gb, fr = partners
    for country in (gb, fr):
        place(country, "workforce", "exploring", days_ago=200)
    engaged(gb, 90, "workforce")  # the last one everyone may count
    engaged(gb, 30, "workforce", sensitivity=Engagement.Sensitivity.CONFIDENTIAL)  # activity, not published
    engaged(gb, 2, "workforce", voided_at=NOW, void_reason="Logged twice")  # nothing
    engaged(fr, 20, "workforce", sensitivity=Engagement.Sensitivity.CONFIDENTIAL)  # FR: activity only

    rollup_countries(now=NOW)

    assert (cell(gb).health, cell(gb).last_engagement_on) == ("on_track", ago(90))
    assert (cell(fr).health, cell(fr).last_engagement_on) == ("on_track", None)


def test_a_stage_move_counts_as_activity(partners):
    gb, _fr = partners
    place(gb, "workforce", "exploring", days_ago=10)
    engaged(gb, 200, "workforce")
    place(gb, "public_services", "exploring", days_ago=61)

    rollup_countries(now=NOW)

    assert (cell(gb, "workforce").health, cell(gb, "public_services").health) == ("on_track", "stalled")


def test_only_engagements_on_the_track_keep_it_alive(partners):
    gb, _fr = partners
    place(gb, "workforce", "exploring", days_ago=100)
    engaged(gb, 1, "data_centres")
    engaged(gb, 1)  # touches no track

    rollup_countries(now=NOW)

    ct = cell(gb)
    assert (ct.health, ct.last_engagement_on) == ("stalled", None)


def test_an_overdue_follow_up_on_the_track_puts_it_at_risk(partners):
    gb, fr = partners
    place(gb, "workforce", "exploring", days_ago=5)
    place(gb, "public_services", "exploring", days_ago=5)
    follow_up(gb, -1, "workforce")  # overdue
    follow_up(gb, 0, "workforce")  # due today: open, not overdue
    follow_up(gb, -9, "workforce", done_at=NOW)  # done: not counted
    follow_up(gb, -3)  # overdue but on no track
    follow_up(fr, -3, "workforce")  # another country

    rollup_countries(now=NOW)

    workforce, public_services = cell(gb), cell(gb, "public_services")
    assert (workforce.health, workforce.open_follow_ups, workforce.overdue_follow_ups) == ("at_risk", 2, 1)
    assert (public_services.health, public_services.open_follow_ups, public_services.overdue_follow_ups) == ("on_track", 0, 0)


def test_stalled_beats_at_risk(partners):
    gb, _fr = partners
    place(gb, "workforce", "exploring", days_ago=100)
    follow_up(gb, -1, "workforce")

    rollup_countries(now=NOW)

    assert cell(gb).health == "stalled"


@pytest.mark.parametrize(
    ("stage_key", "ladder_key", "health"),
    [("paused", "negotiating", "paused"), ("not_started", None, "inactive"), ("withdrawn", "agreed", "inactive")],
)
def test_side_states_and_not_started_never_stall_nor_go_at_risk(partners, stage_key, ladder_key, health):
    gb, _fr = partners
    place(gb, "workforce", stage_key, days_ago=400, ladder_key=ladder_key)
    follow_up(gb, -30, "workforce")

    rollup_countries(now=NOW)

    ct = cell(gb)
    assert (ct.health, ct.overdue_follow_ups) == (health, 1)


# --- country figures ----------------------------------------------------------------------------------------------


def _facility(country, status, *phases):
    facility = factories.FacilityFactory(country=country, status=status)
    for state, mw in phases:
        factories.CapacityPhaseFactory(facility=facility, state=state, power_mw=Decimal(mw))
    return facility


@pytest.fixture
def scenario(partners):
    gb, fr = partners
    place(gb, "workforce", "exploring", days_ago=10)
    place(gb, "public_services", "agreed", days_ago=100)
    engaged(gb, 3, "workforce")
    engaged(gb, 20, sensitivity=Engagement.Sensitivity.CONFIDENTIAL)
    engaged(gb, 40)
    engaged(fr, 1, "workforce")
    follow_up(gb, -1)
    follow_up(gb, 5, "workforce")
    follow_up(gb, -8, "workforce", done_at=NOW)
    follow_up(fr, -2)
    planned, actual = CapacityPhase.State.PLANNED, CapacityPhase.State.ACTUAL
    _facility(gb, Facility.Status.UNDER_CONSTRUCTION, (planned, "10"), (actual, "5.5"))
    _facility(gb, Facility.Status.OPERATIONAL, (actual, "20"))
    _facility(gb, Facility.Status.CANCELLED, (planned, "100"), (actual, "50"))
    _facility(fr, Facility.Status.PLANNED, (planned, "7.25"))
    return gb, fr


def _figures(status):
    return {k: v for k, v in model_to_dict(status).items() if k not in {"computed_at"}}


def test_country_figures(scenario):
    gb, fr = scenario

    assert rollup_countries(now=NOW) == 2

    gb_status = CountryStatus.objects.get(country=gb)
    assert _figures(gb_status) == {
        "country": gb.pk,
        "furthest_stage_key": "agreed",
        "furthest_stage_name": "Agreed",
        "furthest_stage_position": 3,
        "readiness": Decimal("20.0"),  # (1/5 + 3/5 + 0 + 0) / 4
        "worst_health": "stalled",
        "engagement_count": 2,  # the confidential engagement 20 days ago is not counted in what everyone reads
        "last_engagement_on": ago(3),
        "open_follow_ups": 2,
        "overdue_follow_ups": 1,
        "mw_planned": Decimal("10.00"),
        "mw_operational": Decimal("25.50"),
        "tracks": [
            {
                "track": "workforce",
                "stage": "exploring",
                "stage_position": 1,
                "health": "on_track",
                "days_in_stage": 10,
                "last_engagement_on": "2025-06-27",
                "open_follow_ups": 1,
                "overdue_follow_ups": 0,
                "resume_on": None,
            },
            {
                "track": "public_services",
                "stage": "agreed",
                "stage_position": 3,
                "health": "stalled",
                "days_in_stage": 100,
                "last_engagement_on": None,
                "open_follow_ups": 0,
                "overdue_follow_ups": 0,
                "resume_on": None,
            },
            {
                "track": "safety_standards",
                "stage": "not_started",
                "stage_position": 0,
                "health": "inactive",
                "days_in_stage": 0,
                "last_engagement_on": None,
                "open_follow_ups": 0,
                "overdue_follow_ups": 0,
                "resume_on": None,
            },
            {
                "track": "data_centres",
                "stage": "not_started",
                "stage_position": 0,
                "health": "inactive",
                "days_in_stage": 0,
                "last_engagement_on": None,
                "open_follow_ups": 0,
                "overdue_follow_ups": 0,
                "resume_on": None,
            },
        ],
    }
    assert gb_status.computed_at == NOW

    fr_status = CountryStatus.objects.get(country=fr)
    assert (
        fr_status.furthest_stage_key,
        fr_status.furthest_stage_position,
        fr_status.readiness,
        fr_status.worst_health,
        fr_status.engagement_count,
        fr_status.last_engagement_on,
        fr_status.open_follow_ups,
        fr_status.overdue_follow_ups,
        fr_status.mw_planned,
        fr_status.mw_operational,
    ) == ("not_started", 0, Decimal("0.0"), "inactive", 1, ago(1), 1, 1, Decimal("7.25"), Decimal("0.00"))


def test_paused_tracks_count_towards_readiness_and_withdrawn_ones_do_not(partners):
    gb, _fr = partners
    place(gb, "workforce", "withdrawn", days_ago=5, ladder_key="implementing")
    place(gb, "public_services", "exploring", days_ago=5)
    place(gb, "safety_standards", "paused", days_ago=5, ladder_key="agreed")
    CountryTrack.objects.filter(country=gb, track__key="safety_standards").update(resume_on=datetime.date(2025, 9, 1))

    status = rollup_country(country_id=gb.pk, now=NOW)

    assert (status.readiness, status.furthest_stage_key, status.worst_health) == (Decimal("20.0"), "agreed", "paused")
    assert [(t["track"], t["stage"], t["stage_position"], t["health"], t["resume_on"]) for t in status.tracks] == [
        ("workforce", "withdrawn", 4, "inactive", None),
        ("public_services", "exploring", 1, "on_track", None),
        ("safety_standards", "paused", 3, "paused", "2025-09-01"),
        ("data_centres", "not_started", 0, "inactive", None),
    ]


def test_a_country_at_the_top_of_every_ladder_is_fully_ready(partners):
    gb, _fr = partners
    for key in ("workforce", "public_services", "safety_standards", "data_centres"):
        place(gb, key, "operational", days_ago=1)

    status = rollup_country(country_id=gb.pk, now=NOW)

    assert (status.readiness, status.furthest_stage_key, status.furthest_stage_name, status.worst_health) == (
        Decimal("100.0"),
        "operational",
        "Operational",
        "on_track",
    )


def test_running_the_rollup_twice_gives_the_same_figures(scenario):
    gb, fr = scenario
    rollup_countries(now=NOW)
    first = {s.country_id: _figures(s) for s in CountryStatus.objects.all()}
    first_cells = list(
        CountryTrack.objects.order_by("pk").values("pk", "health", "last_engagement_on", "open_follow_ups", "overdue_follow_ups")
    )

    later = NOW + datetime.timedelta(hours=1)
    rollup_countries(now=later)

    assert {s.country_id: _figures(s) for s in CountryStatus.objects.all()} == first
    assert set(CountryStatus.objects.values_list("computed_at", flat=True)) == {later}
    assert (
        list(
            CountryTrack.objects.order_by("pk").values(
                "pk", "health", "last_engagement_on", "open_follow_ups", "overdue_follow_ups"
            )
        )
        == first_cells
    )
    assert sorted(first) == [fr.pk, gb.pk]


def test_rollup_is_scoped_to_the_given_countries(partners):
    gb, fr = partners

    assert rollup_countries([gb.pk], now=NOW) == 1

    assert list(CountryStatus.objects.values_list("country_id", flat=True)) == [gb.pk]


def test_countries_outside_the_programme_get_no_status(db):
    de = factories.country("DE")
    factories.EngagementFactory(country=de)

    assert rollup_countries(now=NOW) == 0
    assert rollup_country(country_id=de.pk, now=NOW) is None
    assert CountryStatus.objects.count() == 0


# --- cost --------------------------------------------------------------------------------------------------------

CODES = ["GB", "FR", "DE", "KE", "BR", "IN", "JP", "NG"]
# SAVEPOINT, partnerships, tracks, ladder tops, cells (with the last activity and the last engagement on each, read
# with them), follow-ups, engagements, capacity, one UPDATE of the cells' time, one upsert of the statuses,
# RELEASE SAVEPOINT. (Tracks that fall stalled or at risk add one INSERT of their events, however many they are.)
ROLLUP_QUERIES = 11


def _enrol(staff_user, codes):
    for code in codes:
        country = factories.country(code)
        partnership_create(actor=staff_user, country=country)
        place(country, "workforce", "exploring", days_ago=30)
        engaged(country, 2, "workforce", "data_centres")
        follow_up(country, -1, "workforce")
        _facility(country, Facility.Status.PLANNED, (CapacityPhase.State.PLANNED, "3"), (CapacityPhase.State.ACTUAL, "1"))


def test_rollup_costs_the_same_number_of_queries_for_2_or_8_countries(staff_user, django_assert_num_queries):
    _enrol(staff_user, CODES[:2])
    with CaptureQueriesContext(connection) as two:
        assert rollup_countries(now=NOW) == 2

    _enrol(staff_user, CODES[2:])
    with CaptureQueriesContext(connection) as eight:
        assert rollup_countries(now=NOW) == 8

    # + the events of the tracks that fell at risk, + the UPDATE of the tracks whose figures moved (the others,
    # as in the run below where nothing moves, only get the time of the computation).
    assert len(two) == len(eight) == ROLLUP_QUERIES + 2
    with django_assert_num_queries(ROLLUP_QUERIES):
        rollup_countries(now=NOW)
    assert CountryStatus.objects.filter(mw_planned=Decimal("3"), mw_operational=Decimal("1"), overdue_follow_ups=1).count() == 8
