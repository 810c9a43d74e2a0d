"""Rules of the partnership and track services: partnerships, tracks, stage moves, pause, resume, withdraw."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import Event
from partnerships.models import CountryTrack, Partnership, StageChange
from partnerships.services import (
    country_track_move,
    country_track_pause,
    country_track_resume,
    country_track_update,
    country_track_withdraw,
    partnership_create,
    partnership_update,
    track_create,
)
from tests import factories
from tracks.models import Stage, Track

pytestmark = pytest.mark.django_db

TRACKS = ["workforce", "public_services", "safety_standards", "data_centres"]
MOVE_EVENTS = ["stage.moved", "stage.paused", "stage.resumed", "stage.withdrawn"]


def _events(kind):
    return list(Event.objects.filter(kind=kind).values_list("country_id", "actor_id", "payload"))


def _stage(key, track="workforce"):
    return factories.stage(track, key)


def _history(ct):
    """(from, to, actor, note) of a cell's stage changes, oldest first."""
    return [
        (c.from_stage.key if c.from_stage else None, c.to_stage.key, c.actor_id, c.note)
        for c in StageChange.objects.filter(country_track=ct)
        .select_related("from_stage", "to_stage")
        .order_by("changed_at", "id")
    ]


@pytest.fixture
def ct(gb_partnership):
    """The GB workforce cell, at not started."""
    return CountryTrack.objects.get(country=gb_partnership.country, track__key="workforce")


def _at(ct, key, actor):
    """Put ``ct`` at ladder stage ``key`` through the service (forward move, no note needed)."""
    country_track_move(actor=actor, country_track=ct, to_stage=_stage(key, ct.track.key))
    return ct


# --- partnership_create -------------------------------------------------------------------------------


def test_partnership_create_opens_four_not_started_cells_with_their_history(staff_user, gb):
    partnership = partnership_create(actor=staff_user, country=gb, started_on=datetime.date(2025, 1, 15), notes="Kick-off")

    assert list(Partnership.objects.values_list("country_id", "status", "started_on", "notes")) == [
        (gb.pk, "pipeline", datetime.date(2025, 1, 15), "Kick-off")
    ]
    cells = CountryTrack.objects.filter(country=gb).order_by("track__position")
    assert [(c.track.key, c.stage.key, c.ladder_stage.key) for c in cells] == [
        (key, "not_started", "not_started") for key in TRACKS
    ]
    changes = StageChange.objects.filter(country_track__country=gb).select_related("to_stage")
    assert (
        sorted((c.from_stage_id, c.to_stage.key, c.actor_id, c.note) for c in changes)
        == [(None, "not_started", staff_user.pk, "")] * 4
    )
    assert _events("partnership.created") == [(gb.pk, staff_user.pk, {"status": "pipeline"})]
    assert partnership.started_on == datetime.date(2025, 1, 15)


def test_partnership_create_starts_today_by_default(staff_user, gb):
    assert partnership_create(actor=staff_user, country=gb).started_on == timezone.localdate()


def test_partnership_create_skips_inactive_tracks(staff_user, gb):
    Track.objects.filter(key="safety_standards").update(is_active=False)

    partnership_create(actor=staff_user, country=gb)

    assert sorted(CountryTrack.objects.filter(country=gb).values_list("track__key", flat=True)) == [
        "data_centres",
        "public_services",
        "workforce",
    ]


@pytest.mark.parametrize("actor_fixture", ["gb_liaison", "viewer_user"])
def test_only_staff_create_partnerships(request, gb, actor_fixture):
    with pytest.raises(PermissionDenied, match="Only programme staff may do this."):
        partnership_create(actor=request.getfixturevalue(actor_fixture), country=gb)

    assert Partnership.objects.count() == 0
    assert CountryTrack.objects.count() == 0
    assert StageChange.objects.count() == 0
    assert Event.objects.count() == 0


def test_a_country_enters_the_programme_once(staff_user, gb_partnership):
    with pytest.raises(ValidationError) as err:
        partnership_create(actor=staff_user, country=gb_partnership.country)

    assert err.value.messages == ["United Kingdom is already in the programme."]
    assert Partnership.objects.count() == 1
    assert CountryTrack.objects.count() == 4
    assert StageChange.objects.count() == 4
    assert len(_events("partnership.created")) == 1


def test_lead_liaison_is_changed_by_staff_only(gb_partnership, gb_liaison, staff_user):
    partnership_update(actor=gb_liaison, partnership=gb_partnership, status=Partnership.Status.ENGAGED)
    with pytest.raises(PermissionDenied):
        partnership_update(actor=gb_liaison, partnership=gb_partnership, lead_liaison=gb_liaison)
    assert Partnership.objects.get().lead_liaison is None

    partnership_update(actor=staff_user, partnership=gb_partnership, lead_liaison=gb_liaison)

    assert Partnership.objects.values_list("status", "lead_liaison_id").get() == ("engaged", gb_liaison.pk)
    assert _events("partnership.updated") == [
        (gb_partnership.country_id, staff_user.pk, {"changes": {"lead_liaison": [None, gb_liaison.pk]}}),
        (gb_partnership.country_id, gb_liaison.pk, {"changes": {"status": ["pipeline", "engaged"]}}),
    ]


# --- track_create --------------------------------------------------------------------------------------------


def test_track_create_adds_the_default_ladder_and_a_cell_per_partnership(staff_user, gb_partnership):
    fr = factories.country("FR")
    partnership_create(actor=staff_user, country=fr)

    track = track_create(
        actor=staff_user, key="reindustrialisation", name_en="Reindustrialisation", name_fr="Réindustrialisation"
    )

    assert track.position == 5  # after the four seeded tracks (positions 1..4)
    assert list(
        Stage.objects.filter(track=track).order_by("position").values_list("position", "key", "kind", "stalled_after_days")
    ) == [
        (0, "not_started", "ladder", None),
        (1, "exploring", "ladder", 60),
        (2, "negotiating", "ladder", 60),
        (3, "agreed", "ladder", 60),
        (4, "implementing", "ladder", 60),
        (5, "operational", "ladder", 180),
        (6, "paused", "paused", None),
        (7, "withdrawn", "withdrawn", None),
    ]
    cells = CountryTrack.objects.filter(track=track).order_by("country__iso2")
    assert [(c.country.iso2, c.stage.key, c.ladder_stage.key) for c in cells] == [
        ("FR", "not_started", "not_started"),
        ("GB", "not_started", "not_started"),
    ]
    assert _history(cells[1]) == [(None, "not_started", staff_user.pk, "")]
    ((country_id, actor_id, payload),) = _events("track.created")
    assert (country_id, actor_id, payload["key"]) == (None, staff_user.pk, "reindustrialisation")
    # Every partnership country is recomputed: its readiness is now shared over five tracks.
    assert sorted(payload["country_ids"]) == sorted([factories.country("FR").pk, factories.country("GB").pk])


@pytest.mark.parametrize("actor_fixture", ["gb_liaison", "viewer_user"])
def test_only_staff_create_tracks(request, gb_partnership, actor_fixture):
    with pytest.raises(PermissionDenied, match="Only programme staff may do this."):
        track_create(actor=request.getfixturevalue(actor_fixture), key="reindustrialisation", name_en="Reindustrialisation")

    assert not Track.objects.filter(key="reindustrialisation").exists()
    assert CountryTrack.objects.count() == 4
    assert _events("track.created") == []


def test_track_keys_are_unique(staff_user):
    with pytest.raises(ValidationError) as err:
        track_create(actor=staff_user, key="workforce", name_en="Workforce again")

    assert err.value.message_dict == {"key": ["Track with this Key already exists."]}
    assert Track.objects.count() == 4
    assert Stage.objects.count() == 32


# --- country_track_move: allowed moves ------------------------------------------------------------------------------


def test_forward_move_writes_a_stage_change_and_an_event(ct, gb_liaison, staff_user):
    change = country_track_move(actor=gb_liaison, country_track=ct, to_stage=_stage("exploring"), note="  First call  ")

    row = CountryTrack.objects.get(pk=ct.pk)
    assert (row.stage.key, row.ladder_stage.key) == ("exploring", "exploring")
    assert row.stage_changed_at == change.changed_at
    assert ct.stage.key == "exploring"  # the caller's instance is refreshed
    assert _history(ct) == [
        (None, "not_started", staff_user.pk, ""),
        ("not_started", "exploring", gb_liaison.pk, "First call"),
    ]
    assert _events("stage.moved") == [
        (
            ct.country_id,
            gb_liaison.pk,
            {"track": "workforce", "from": "not_started", "to": "exploring", "stage_change": change.pk},
        )
    ]


def test_forward_move_may_skip_rungs(ct, gb_liaison):
    country_track_move(actor=gb_liaison, country_track=ct, to_stage=_stage("agreed"))

    assert CountryTrack.objects.get(pk=ct.pk).stage.key == "agreed"
    assert _history(ct)[-1] == ("not_started", "agreed", gb_liaison.pk, "")


def test_staff_move_any_country(ct, staff_user):
    country_track_move(actor=staff_user, country_track=ct, to_stage=_stage("exploring"))
    assert CountryTrack.objects.get(pk=ct.pk).stage.key == "exploring"


def test_backward_move_needs_a_note_and_writes_nothing_without_one(ct, gb_liaison):
    _at(ct, "agreed", gb_liaison)

    with pytest.raises(ValidationError) as err:
        country_track_move(actor=gb_liaison, country_track=ct, to_stage=_stage("exploring"), note="   ")

    assert err.value.message_dict == {"note": ["Moving back from “Agreed” to “Exploring” needs a note saying why."]}
    assert CountryTrack.objects.get(pk=ct.pk).stage.key == "agreed"
    assert StageChange.objects.filter(country_track=ct).count() == 2
    assert len(_events("stage.moved")) == 1


def test_backward_move_with_a_note(ct, gb_liaison):
    _at(ct, "agreed", gb_liaison)

    country_track_move(actor=gb_liaison, country_track=ct, to_stage=_stage("exploring"), note="Minister replaced")

    row = CountryTrack.objects.get(pk=ct.pk)
    assert (row.stage.key, row.ladder_stage.key) == ("exploring", "exploring")
    assert _history(ct)[-1] == ("agreed", "exploring", gb_liaison.pk, "Minister replaced")


def test_evidence_of_the_same_country_is_recorded(ct, gb_liaison):
    engagement = factories.EngagementFactory(country=ct.country)
    agreement = factories.AgreementFactory(country=ct.country)
    announcement = factories.AnnouncementFactory(status="published", published_at=timezone.now() - datetime.timedelta(hours=1))
    announcement.countries.set([ct.country])

    change = country_track_move(
        actor=gb_liaison,
        country_track=ct,
        to_stage=_stage("agreed"),
        evidence_engagement=engagement,
        evidence_agreement=agreement,
        evidence_announcement=announcement,
    )

    change.refresh_from_db()
    assert (change.evidence_engagement_id, change.evidence_agreement_id, change.evidence_announcement_id) == (
        engagement.pk,
        agreement.pk,
        announcement.pk,
    )


# --- country_track_move: refusals --------------------------------------------------------------------------------


def _assert_nothing_written(ct, *, stage="not_started", changes=1):
    row = CountryTrack.objects.get(pk=ct.pk)
    assert row.stage.key == stage
    assert StageChange.objects.filter(country_track=ct).count() == changes
    assert Event.objects.filter(kind__in=MOVE_EVENTS).count() == changes - 1


def test_evidence_of_another_country_is_refused(ct, gb_liaison):
    fr = factories.country("FR")
    foreign_announcement = factories.AnnouncementFactory()
    foreign_announcement.countries.set([fr])

    with pytest.raises(ValidationError) as err:
        country_track_move(
            actor=gb_liaison,
            country_track=ct,
            to_stage=_stage("exploring"),
            evidence_engagement=factories.EngagementFactory(country=fr),
            evidence_agreement=factories.AgreementFactory(country=fr),
            evidence_announcement=foreign_announcement,
        )

    assert err.value.message_dict == {
        "evidence_engagement": ["The engagement given as evidence is with another country."],
        "evidence_agreement": ["The agreement given as evidence is with another country."],
        "evidence_announcement": ["The announcement given as evidence does not name this country."],
    }
    _assert_nothing_written(ct)


def test_a_stage_of_another_track_is_refused(ct, gb_liaison):
    with pytest.raises(ValidationError) as err:
        country_track_move(actor=gb_liaison, country_track=ct, to_stage=_stage("exploring", "data_centres"))

    assert err.value.message_dict == {"to_stage": ["“Exploring” is a stage of another track."]}
    _assert_nothing_written(ct)


@pytest.mark.parametrize(("key", "name"), [("paused", "Paused"), ("withdrawn", "Withdrawn")])
def test_side_states_are_not_reached_by_a_move(ct, gb_liaison, key, name):
    with pytest.raises(ValidationError) as err:
        country_track_move(actor=gb_liaison, country_track=ct, to_stage=_stage(key), note="because")

    assert err.value.message_dict == {"to_stage": [f"Use pause or withdraw to put a track in the “{name}” state."]}
    _assert_nothing_written(ct)


def test_the_current_stage_is_refused(ct, gb_liaison):
    with pytest.raises(ValidationError) as err:
        country_track_move(actor=gb_liaison, country_track=ct, to_stage=_stage("not_started"), note="again")

    assert err.value.message_dict == {"to_stage": ["The track is already at “Not started”."]}
    _assert_nothing_written(ct)


def test_a_paused_track_is_resumed_not_moved(ct, gb_liaison):
    _at(ct, "exploring", gb_liaison)
    country_track_pause(
        actor=gb_liaison, country_track=ct, reason="Elections", resume_on=timezone.localdate() + datetime.timedelta(days=30)
    )

    with pytest.raises(ValidationError) as err:
        country_track_move(actor=gb_liaison, country_track=ct, to_stage=_stage("negotiating"))

    assert err.value.message_dict == {"to_stage": ["This track is paused: resume it before moving it to another stage."]}
    _assert_nothing_written(ct, stage="paused", changes=3)


def test_reopening_a_withdrawn_track_needs_a_note(ct, gb_liaison):
    _at(ct, "negotiating", gb_liaison)
    country_track_withdraw(actor=gb_liaison, country_track=ct, reason="No budget")

    with pytest.raises(ValidationError) as err:
        country_track_move(actor=gb_liaison, country_track=ct, to_stage=_stage("negotiating"))
    assert err.value.message_dict == {"note": ["Re-opening a withdrawn track needs a note saying why."]}
    _assert_nothing_written(ct, stage="withdrawn", changes=3)

    country_track_move(actor=gb_liaison, country_track=ct, to_stage=_stage("negotiating"), note="Budget found")

    row = CountryTrack.objects.get(pk=ct.pk)
    assert (row.stage.key, row.ladder_stage.key, row.pause_reason) == ("negotiating", "negotiating", "")
    assert _history(ct)[-1] == ("withdrawn", "negotiating", gb_liaison.pk, "Budget found")


@pytest.mark.parametrize("actor_fixture", ["fr_liaison", "viewer_user"])
def test_move_refused_for_someone_who_does_not_write_for_the_country(request, ct, actor_fixture):
    with pytest.raises(PermissionDenied, match="You may not change data for United Kingdom"):
        country_track_move(actor=request.getfixturevalue(actor_fixture), country_track=ct, to_stage=_stage("exploring"))

    _assert_nothing_written(ct)


def test_a_user_with_no_role_may_not_move(ct):
    with pytest.raises(PermissionDenied):
        country_track_move(actor=factories.make_user(username="nobody"), country_track=ct, to_stage=_stage("exploring"))
    _assert_nothing_written(ct)


# --- pause, resume, withdraw ------------------------------------------------------------------------------------------


def test_pause_keeps_the_ladder_stage_and_resume_returns_to_it(ct, gb_liaison):
    _at(ct, "negotiating", gb_liaison)
    resume_on = timezone.localdate() + datetime.timedelta(days=90)

    pause = country_track_pause(actor=gb_liaison, country_track=ct, reason=" Elections ", resume_on=resume_on)

    row = CountryTrack.objects.get(pk=ct.pk)
    assert (row.stage.key, row.ladder_stage.key, row.pause_reason, row.resume_on) == (
        "paused",
        "negotiating",
        "Elections",
        resume_on,
    )
    assert _events("stage.paused") == [
        (
            ct.country_id,
            gb_liaison.pk,
            {
                "track": "workforce",
                "from": "negotiating",
                "to": "paused",
                "stage_change": pause.pk,
                "resume_on": resume_on.isoformat(),
            },
        )
    ]

    resume = country_track_resume(actor=gb_liaison, country_track=ct, note="New government in place")

    row = CountryTrack.objects.get(pk=ct.pk)
    assert (row.stage.key, row.ladder_stage.key, row.pause_reason, row.resume_on) == ("negotiating", "negotiating", "", None)
    assert _history(ct)[-2:] == [
        ("negotiating", "paused", gb_liaison.pk, "Elections"),
        ("paused", "negotiating", gb_liaison.pk, "New government in place"),
    ]
    assert _events("stage.resumed") == [
        (ct.country_id, gb_liaison.pk, {"track": "workforce", "from": "paused", "to": "negotiating", "stage_change": resume.pk})
    ]


@pytest.mark.parametrize(
    ("reason", "resume_in_days", "errors"),
    [
        ("", 30, {"reason": ["Pausing a track needs a reason."]}),
        ("   ", 30, {"reason": ["Pausing a track needs a reason."]}),
        ("Elections", None, {"resume_on": ["Pausing a track needs a date to resume it."]}),
        ("Elections", 0, {"resume_on": ["The resume date must be in the future."]}),
        ("Elections", -1, {"resume_on": ["The resume date must be in the future."]}),
        (
            "",
            None,
            {"reason": ["Pausing a track needs a reason."], "resume_on": ["Pausing a track needs a date to resume it."]},
        ),
    ],
)
def test_pause_needs_a_reason_and_a_future_resume_date(ct, gb_liaison, reason, resume_in_days, errors):
    _at(ct, "exploring", gb_liaison)
    resume_on = None if resume_in_days is None else timezone.localdate() + datetime.timedelta(days=resume_in_days)

    with pytest.raises(ValidationError) as err:
        country_track_pause(actor=gb_liaison, country_track=ct, reason=reason, resume_on=resume_on)

    assert err.value.message_dict == errors
    _assert_nothing_written(ct, stage="exploring", changes=2)


def test_pausing_a_paused_track_is_refused(ct, gb_liaison):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    country_track_pause(actor=gb_liaison, country_track=ct, reason="Elections", resume_on=tomorrow)

    with pytest.raises(ValidationError) as err:
        country_track_pause(actor=gb_liaison, country_track=ct, reason="Again", resume_on=tomorrow)

    assert err.value.messages == ["Only a track on its ladder can be paused; this one is “Paused”."]
    _assert_nothing_written(ct, stage="paused", changes=2)


def test_pause_refused_for_liaison_of_another_country(ct, fr_liaison):
    with pytest.raises(PermissionDenied):
        country_track_pause(
            actor=fr_liaison, country_track=ct, reason="Elections", resume_on=timezone.localdate() + datetime.timedelta(days=9)
        )
    _assert_nothing_written(ct)


def test_resuming_a_track_that_is_not_paused_is_refused(ct, gb_liaison):
    _at(ct, "exploring", gb_liaison)

    with pytest.raises(ValidationError) as err:
        country_track_resume(actor=gb_liaison, country_track=ct)

    assert err.value.messages == ["Only a paused track can be resumed."]
    _assert_nothing_written(ct, stage="exploring", changes=2)


def test_withdraw_needs_a_reason(ct, gb_liaison):
    _at(ct, "exploring", gb_liaison)

    with pytest.raises(ValidationError) as err:
        country_track_withdraw(actor=gb_liaison, country_track=ct, reason="  ")

    assert err.value.message_dict == {"reason": ["Withdrawing a track needs a reason."]}
    _assert_nothing_written(ct, stage="exploring", changes=2)


def test_withdraw_a_paused_track(ct, gb_liaison):
    _at(ct, "exploring", gb_liaison)
    country_track_pause(
        actor=gb_liaison, country_track=ct, reason="Elections", resume_on=timezone.localdate() + datetime.timedelta(days=9)
    )

    change = country_track_withdraw(actor=gb_liaison, country_track=ct, reason="Government declined")

    row = CountryTrack.objects.get(pk=ct.pk)
    assert (row.stage.key, row.ladder_stage.key, row.pause_reason, row.resume_on) == (
        "withdrawn",
        "exploring",
        "Government declined",
        None,
    )
    assert _events("stage.withdrawn") == [
        (ct.country_id, gb_liaison.pk, {"track": "workforce", "from": "paused", "to": "withdrawn", "stage_change": change.pk})
    ]

    with pytest.raises(ValidationError) as err:
        country_track_withdraw(actor=gb_liaison, country_track=ct, reason="Again")
    assert err.value.messages == ["This track is already withdrawn."]
    assert StageChange.objects.filter(country_track=ct).count() == 4


# --- country_track_update --------------------------------------------------------------------------------------------


def test_country_track_update_records_changes(ct, gb_liaison):
    due = datetime.date(2025, 9, 1)

    country_track_update(
        actor=gb_liaison, country_track=ct, owner=gb_liaison, next_step="Send draft MoU", next_step_due=due, priority="high"
    )
    country_track_update(actor=gb_liaison, country_track=ct, priority="high")  # no change: no event

    row = CountryTrack.objects.get(pk=ct.pk)
    assert (row.owner_id, row.next_step, row.next_step_due, row.priority) == (gb_liaison.pk, "Send draft MoU", due, "high")
    assert _events("country_track.updated") == [
        (
            ct.country_id,
            gb_liaison.pk,
            {
                "changes": {
                    "owner": [None, gb_liaison.pk],
                    "next_step": ["", "Send draft MoU"],
                    "next_step_due": [None, "2025-09-01"],
                    "priority": ["normal", "high"],
                }
            },
        )
    ]


def test_country_track_update_refuses_an_unknown_priority(ct, gb_liaison):
    with pytest.raises(ValidationError) as err:
        country_track_update(actor=gb_liaison, country_track=ct, priority="urgent")

    assert err.value.message_dict == {"priority": ["Value 'urgent' is not a valid choice."]}
    assert CountryTrack.objects.get(pk=ct.pk).priority == "normal"
    assert _events("country_track.updated") == []


def test_country_track_update_cannot_change_the_stage(ct, gb_liaison):
    with pytest.raises(TypeError, match="stage"):
        country_track_update(actor=gb_liaison, country_track=ct, stage=_stage("operational"))
    assert CountryTrack.objects.get(pk=ct.pk).stage.key == "not_started"


def test_country_track_update_refused_for_liaison_of_another_country(ct, fr_liaison):
    with pytest.raises(PermissionDenied):
        country_track_update(actor=fr_liaison, country_track=ct, next_step="Hijack")
    assert CountryTrack.objects.get(pk=ct.pk).next_step == ""
    assert _events("country_track.updated") == []
