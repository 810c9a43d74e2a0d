"""Rules of the engagement, follow-up and agreement services."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import Event
from countries.models import LiaisonAssignment
from engagements.models import Agreement, Engagement, EngagementTrack, FollowUp
from engagements.services import (
    agreement_create,
    engagement_log,
    engagement_update,
    follow_up_complete,
    follow_up_create,
    follow_up_reopen,
)
from tests import factories
from tracks.models import Track

pytestmark = pytest.mark.django_db

SECRET = "The minister hinted at a sovereign compute fund"


def _events(kind):
    return list(Event.objects.filter(kind=kind).values_list("country_id", "actor_id", "payload"))


def _days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def fr():
    return factories.country("FR")


@pytest.fixture
def workforce():
    return factories.track("workforce")


def _log(actor, country, **overrides):
    fields = {"occurred_on": _days(-2), "kind": Engagement.Kind.MEETING, "summary": "Discussed skills."}
    fields.update(overrides)
    return engagement_log(actor=actor, country=country, **fields)


def _nothing_logged():
    return (Engagement.objects.count(), FollowUp.objects.count(), Event.objects.filter(kind="engagement.logged").count()) == (
        0,
        0,
        0,
    )


# --- engagement_log -------------------------------------------------------------------------------------


def test_engagement_log_writes_the_engagement_its_links_and_follow_ups(gb, gb_liaison, viewer_user, workforce):
    counterpart = factories.CounterpartFactory(country=gb)
    data_centres = factories.track("data_centres")

    engagement = _log(
        gb_liaison,
        gb,
        occurred_on=_days(0),
        summary="  Kick-off with the ministry  ",
        outcome=" Agreed to explore ",
        tracks=[workforce, data_centres],
        counterparts=[counterpart],
        follow_ups=[
            {"description": "Send the draft MoU", "due_on": _days(7), "owner": gb_liaison, "track": workforce},
            {"description": "Book a visit", "due_on": _days(30)},
        ],
    )

    row = Engagement.objects.get()
    assert (row.pk, row.country_id, row.occurred_on, row.summary, row.outcome, row.logged_by_id) == (
        engagement.pk,
        gb.pk,
        _days(0),
        "Kick-off with the ministry",
        "Agreed to explore",
        gb_liaison.pk,
    )
    assert sorted(row.tracks.values_list("key", flat=True)) == ["data_centres", "workforce"]
    assert list(row.counterparts.all()) == [counterpart]
    follow_ups = list(FollowUp.objects.order_by("due_on"))
    assert [(f.country_id, f.engagement_id, f.description, f.due_on, f.owner_id, f.track_id) for f in follow_ups] == [
        (gb.pk, engagement.pk, "Send the draft MoU", _days(7), gb_liaison.pk, workforce.pk),
        (gb.pk, engagement.pk, "Book a visit", _days(30), None, None),
    ]
    assert _events("engagement.logged") == [
        (
            gb.pk,
            gb_liaison.pk,
            {"tracks": ["workforce", "data_centres"], "confidential": False, "follow_ups": [f.pk for f in follow_ups]},
        )
    ]


def test_a_confidential_engagement_does_not_put_its_content_in_the_event(gb, gb_liaison):
    engagement = _log(gb_liaison, gb, summary=SECRET, outcome="Fund of 2bn", sensitivity=Engagement.Sensitivity.CONFIDENTIAL)

    event = Event.objects.get(kind="engagement.logged")
    assert event.payload == {"tracks": [], "confidential": True, "follow_ups": []}
    assert (event.subject_type, event.subject_id) == ("partnerships.engagement", str(engagement.pk))
    serialised = json.dumps(event.payload)
    assert "sovereign" not in serialised
    assert "2bn" not in serialised


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"occurred_on": None}, {"occurred_on": ["Give the date of the engagement."]}),
        (
            {"occurred_on": "tomorrow"},
            {"occurred_on": ["An engagement cannot be logged in the future; plan it as a follow-up instead."]},
        ),
        ({"summary": ""}, {"summary": ["Summarise what was discussed."]}),
        ({"summary": "  \n "}, {"summary": ["Summarise what was discussed."]}),
        (
            {"occurred_on": "tomorrow", "summary": ""},
            {
                "occurred_on": ["An engagement cannot be logged in the future; plan it as a follow-up instead."],
                "summary": ["Summarise what was discussed."],
            },
        ),
        ({"kind": "dinner"}, {"kind": ["Value 'dinner' is not a valid choice."]}),
    ],
)
def test_engagement_log_refuses_bad_input(gb, gb_liaison, overrides, errors):
    if overrides.get("occurred_on") == "tomorrow":
        overrides["occurred_on"] = _days(1)

    with pytest.raises(ValidationError) as err:
        _log(gb_liaison, gb, **overrides)

    assert err.value.message_dict == errors
    assert _nothing_logged()


def test_engagement_log_refuses_a_counterpart_of_another_country(gb, gb_liaison, fr):
    factories.CounterpartFactory(country=gb, name="Home")
    foreign = factories.CounterpartFactory(country=fr, name="Jean Dupont")

    with pytest.raises(ValidationError) as err:
        _log(gb_liaison, gb, counterparts=[foreign])

    assert err.value.message_dict == {"counterparts": ["Jean Dupont is a counterpart in another country."]}
    assert _nothing_logged()


def test_engagement_log_refuses_an_inactive_track(gb, gb_liaison, workforce):
    Track.objects.filter(pk=workforce.pk).update(is_active=False)
    workforce.refresh_from_db()

    with pytest.raises(ValidationError) as err:
        _log(gb_liaison, gb, tracks=[workforce])

    assert err.value.message_dict == {"tracks": ["Track “Workforce training” is no longer active."]}
    assert _nothing_logged()


def test_a_bad_follow_up_rolls_back_the_whole_engagement(gb, gb_liaison):
    with pytest.raises(ValidationError) as err:
        _log(gb_liaison, gb, follow_ups=[{"description": "Fine", "due_on": _days(3)}, {"description": " ", "due_on": None}])

    assert err.value.message_dict == {
        "follow_ups.1.description": ["Say what is to be done."],
        "follow_ups.1.due_on": ["A follow-up needs a due date."],
    }
    assert _nothing_logged()


@pytest.mark.parametrize("actor_fixture", ["fr_liaison", "viewer_user"])
def test_engagement_log_refused_for_someone_who_does_not_write_for_the_country(request, gb, actor_fixture):
    with pytest.raises(PermissionDenied):
        _log(request.getfixturevalue(actor_fixture), gb, follow_ups=[{"description": "x", "due_on": _days(3)}])
    assert _nothing_logged()


# --- engagement_update --------------------------------------------------------------------------------------


@pytest.fixture
def engagement(gb, gb_liaison):
    return _log(gb_liaison, gb, summary="Original summary")


def test_engagement_update_records_which_fields_changed(engagement, gb_liaison, workforce):
    counterpart = factories.CounterpartFactory(country=engagement.country)

    engagement_update(
        actor=gb_liaison,
        engagement=engagement,
        summary="Better summary",
        outcome="MoU drafted",
        tracks=[workforce],
        counterparts=[counterpart],
    )
    engagement_update(actor=gb_liaison, engagement=engagement, summary="Better summary", tracks=[workforce])  # no change

    row = Engagement.objects.get()
    assert (row.summary, row.outcome) == ("Better summary", "MoU drafted")
    assert list(row.tracks.values_list("key", flat=True)) == ["workforce"]
    assert _events("engagement.updated") == [
        (engagement.country_id, gb_liaison.pk, {"fields": ["counterparts", "outcome", "summary", "tracks"]})
    ]


def test_the_links_to_tracks_keep_the_engagements_country_and_date(gb, gb_liaison, workforce):
    """The links carry a copy of their engagement's country and date (what the pipeline as of a past day reads):
    written with the engagement, moved with its date, and given to a track added later."""
    safety = factories.track("safety_standards")
    logged = _log(gb_liaison, gb, occurred_on=_days(-10), tracks=[workforce])

    def links():
        return sorted(EngagementTrack.objects.filter(engagement=logged).values_list("track__key", "country_id", "occurred_on"))

    assert links() == [("workforce", gb.pk, _days(-10))]
    engagement_update(actor=gb_liaison, engagement=logged, occurred_on=_days(-4))
    assert links() == [("workforce", gb.pk, _days(-4))]
    engagement_update(actor=gb_liaison, engagement=logged, occurred_on=_days(-6), tracks=[workforce, safety])
    assert links() == [("safety_standards", gb.pk, _days(-6)), ("workforce", gb.pk, _days(-6))]


def test_engagement_update_refuses_a_future_date(engagement, gb_liaison):
    with pytest.raises(ValidationError) as err:
        engagement_update(actor=gb_liaison, engagement=engagement, occurred_on=_days(1))

    assert err.value.message_dict == {"occurred_on": ["An engagement cannot be logged in the future."]}
    assert Engagement.objects.get().occurred_on == _days(-2)
    assert _events("engagement.updated") == []


def test_engagement_update_refuses_a_counterpart_of_another_country(engagement, gb_liaison, fr):
    foreign = factories.CounterpartFactory(country=fr, name="Jean Dupont")
    with pytest.raises(ValidationError) as err:
        engagement_update(actor=gb_liaison, engagement=engagement, counterparts=[foreign])
    assert err.value.message_dict == {"counterparts": ["Jean Dupont is a counterpart in another country."]}
    assert Engagement.objects.get().counterparts.count() == 0


def test_engagement_update_refused_for_liaison_of_another_country(engagement, fr_liaison):
    with pytest.raises(PermissionDenied):
        engagement_update(actor=fr_liaison, engagement=engagement, summary="Rewritten")
    assert Engagement.objects.get().summary == "Original summary"
    assert _events("engagement.updated") == []


def test_engagement_update_refuses_a_blank_summary(engagement, gb_liaison):
    with pytest.raises(ValidationError) as err:
        engagement_update(actor=gb_liaison, engagement=engagement, summary="   ")
    assert list(err.value.message_dict) == ["summary"]


def test_engagement_update_refuses_clearing_the_date(engagement, gb_liaison):
    with pytest.raises(ValidationError) as err:
        engagement_update(actor=gb_liaison, engagement=engagement, occurred_on=None)
    assert list(err.value.message_dict) == ["occurred_on"]


# --- follow-ups -------------------------------------------------------------------------------------------------


def test_follow_up_create(gb, gb_liaison, workforce, engagement):
    follow_up = follow_up_create(
        actor=gb_liaison, country=gb, description=" Call back ", due_on=_days(5), track=workforce, engagement=engagement
    )

    assert list(FollowUp.objects.values_list("pk", "country_id", "description", "track_id", "engagement_id", "done_at")) == [
        (follow_up.pk, gb.pk, "Call back", workforce.pk, engagement.pk, None)
    ]
    assert _events("follow_up.created") == [(gb.pk, gb_liaison.pk, {"due_on": _days(5).isoformat()})]


def test_follow_up_create_refuses_an_engagement_of_another_country(gb, gb_liaison, fr):
    with pytest.raises(ValidationError) as err:
        follow_up_create(
            actor=gb_liaison,
            country=gb,
            description="Call back",
            due_on=_days(5),
            engagement=factories.EngagementFactory(country=fr),
        )
    assert err.value.message_dict == {"engagement": ["The engagement is with another country."]}
    assert FollowUp.objects.count() == 0


def test_follow_up_create_refuses_an_inactive_track_and_a_blank_description(gb, gb_liaison, workforce):
    Track.objects.filter(pk=workforce.pk).update(is_active=False)
    workforce.refresh_from_db()

    with pytest.raises(ValidationError) as err:
        follow_up_create(actor=gb_liaison, country=gb, description="", due_on=_days(5), track=workforce)

    assert err.value.message_dict == {
        "description": ["Say what is to be done."],
        "track": ["Track “Workforce training” is no longer active."],
    }
    assert FollowUp.objects.count() == 0


def test_follow_up_create_refused_for_liaison_of_another_country(gb, fr_liaison):
    with pytest.raises(PermissionDenied):
        follow_up_create(actor=fr_liaison, country=gb, description="Call back", due_on=_days(5))
    assert FollowUp.objects.count() == 0
    assert _events("follow_up.created") == []


@pytest.fixture
def follow_up(gb):
    return factories.FollowUpFactory(country=gb, due_on=_days(-1))


def test_follow_up_complete_and_reopen(follow_up, gb_liaison):
    follow_up_complete(actor=gb_liaison, follow_up=follow_up)

    row = FollowUp.objects.get()
    assert row.done_at is not None
    assert row.done_by_id == gb_liaison.pk
    assert follow_up.done_at == row.done_at  # the caller's instance is refreshed

    follow_up_reopen(actor=gb_liaison, follow_up=follow_up)

    assert FollowUp.objects.values_list("done_at", "done_by_id").get() == (None, None)
    assert [e[:2] for e in _events("follow_up.completed")] == [(follow_up.country_id, gb_liaison.pk)]
    assert [e[:2] for e in _events("follow_up.reopened")] == [(follow_up.country_id, gb_liaison.pk)]


def test_completing_twice_is_refused(follow_up, gb_liaison, staff_user):
    follow_up_complete(actor=gb_liaison, follow_up=follow_up)
    first = FollowUp.objects.get().done_at

    with pytest.raises(ValidationError) as err:
        follow_up_complete(actor=staff_user, follow_up=FollowUp.objects.get())

    assert err.value.messages == ["This follow-up was already marked done."]
    assert FollowUp.objects.values_list("done_at", "done_by_id").get() == (first, gb_liaison.pk)
    assert len(_events("follow_up.completed")) == 1


def test_reopening_an_open_follow_up_is_refused(follow_up, gb_liaison):
    with pytest.raises(ValidationError) as err:
        follow_up_reopen(actor=gb_liaison, follow_up=follow_up)
    assert err.value.messages == ["This follow-up is still open."]
    assert _events("follow_up.reopened") == []


def test_a_follow_up_owner_must_work_on_the_country(gb, gb_liaison, fr_liaison, viewer_user):
    for outsider in (fr_liaison, viewer_user):
        with pytest.raises(ValidationError) as err:
            follow_up_create(actor=gb_liaison, country=gb, description="Call back", due_on=_days(3), owner=outsider)
        assert list(err.value.message_dict) == ["owner"]
    assert FollowUp.objects.count() == 0


def test_an_owner_who_left_the_country_may_no_longer_complete(follow_up, gb_liaison):
    FollowUp.objects.filter(pk=follow_up.pk).update(owner=gb_liaison)
    LiaisonAssignment.objects.filter(user=gb_liaison).delete()
    gb_liaison = type(gb_liaison).objects.get(pk=gb_liaison.pk)  # drop the cached assignments
    with pytest.raises(PermissionDenied):
        follow_up_complete(actor=gb_liaison, follow_up=follow_up)
    assert FollowUp.objects.get().done_at is None


@pytest.mark.parametrize("actor_fixture", ["fr_liaison", "viewer_user"])
def test_someone_else_may_not_complete(request, follow_up, actor_fixture):
    with pytest.raises(PermissionDenied):
        follow_up_complete(actor=request.getfixturevalue(actor_fixture), follow_up=follow_up)
    assert FollowUp.objects.get().done_at is None
    assert _events("follow_up.completed") == []


# --- agreements ---------------------------------------------------------------------------------------------------


def test_agreement_create(gb, gb_liaison, workforce):
    agreement = agreement_create(
        actor=gb_liaison,
        country=gb,
        kind=Agreement.Kind.MOU,
        title=" MoU on AI skills ",
        signed_on=_days(0),
        expires_on=_days(1),
        tracks=[workforce],
    )

    row = Agreement.objects.get()
    assert (row.pk, row.country_id, row.title, row.signed_on, row.expires_on, row.created_by_id) == (
        agreement.pk,
        gb.pk,
        "MoU on AI skills",
        _days(0),
        _days(1),
        gb_liaison.pk,
    )
    assert list(row.tracks.all()) == [workforce]
    assert _events("agreement.signed") == [(gb.pk, gb_liaison.pk, {"kind": "mou"})]


@pytest.mark.parametrize(
    ("signed", "expires", "errors"),
    [
        (1, None, {"signed_on": ["An agreement cannot be recorded as signed in the future."]}),
        (-10, -11, {"__all__": ["An agreement must expire after the day it was signed."]}),
        (-10, -10, {"__all__": ["An agreement must expire after the day it was signed."]}),
    ],
)
def test_agreement_dates_are_checked(gb, gb_liaison, signed, expires, errors):
    with pytest.raises(ValidationError) as err:
        agreement_create(
            actor=gb_liaison,
            country=gb,
            kind=Agreement.Kind.MOU,
            title="MoU",
            signed_on=_days(signed),
            expires_on=None if expires is None else _days(expires),
        )

    assert err.value.message_dict == errors
    assert Agreement.objects.count() == 0
    assert _events("agreement.signed") == []


def test_agreement_with_an_inactive_track_is_rolled_back(gb, gb_liaison, workforce):
    Track.objects.filter(pk=workforce.pk).update(is_active=False)
    workforce.refresh_from_db()

    with pytest.raises(ValidationError) as err:
        agreement_create(actor=gb_liaison, country=gb, kind="mou", title="MoU", signed_on=_days(-1), tracks=[workforce])

    assert err.value.message_dict == {"tracks": ["Track “Workforce training” is no longer active."]}
    assert Agreement.objects.count() == 0


def test_agreement_refused_for_liaison_of_another_country(gb, fr_liaison):
    with pytest.raises(PermissionDenied):
        agreement_create(actor=fr_liaison, country=gb, kind="mou", title="MoU", signed_on=_days(-1))
    assert Agreement.objects.count() == 0
