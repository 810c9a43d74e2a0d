"""Rules of the announcement services: draft, update, schedule under embargo, publish, withdraw."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from announcements.models import Announcement
from announcements.services import (
    announcement_create,
    announcement_publish,
    announcement_schedule,
    announcement_update,
    announcement_withdraw,
)
from core.models import Event
from tests import factories

pytestmark = pytest.mark.django_db


def _events(kind):
    return list(Event.objects.filter(kind=kind).values_list("country_id", "actor_id", "payload"))


@pytest.fixture
def fr():
    return factories.country("FR")


@pytest.fixture
def draft(gb, gb_liaison):
    return announcement_create(actor=gb_liaison, title="UK joins the programme", countries=[gb])


def _in(hours):
    return timezone.now() + datetime.timedelta(hours=hours)


# --- announcement_create ------------------------------------------------------------------------------------------


def test_liaison_drafts_for_their_own_country(gb, gb_liaison):
    announcement = announcement_create(
        actor=gb_liaison, title=" UK joins ", body="Text", countries=[gb], tracks=[factories.track("workforce")], is_public=False
    )

    row = Announcement.objects.get()
    assert (row.pk, row.title, row.status, row.is_public, row.created_by_id, row.embargo_until, row.published_at) == (
        announcement.pk,
        "UK joins",
        "draft",
        False,
        gb_liaison.pk,
        None,
        None,
    )
    assert list(row.countries.all()) == [gb]
    assert _events("announcement.drafted") == [(None, gb_liaison.pk, {"country_ids": [gb.pk]})]


def test_staff_draft_without_naming_a_country(staff_user):
    announcement_create(actor=staff_user, title="Programme update")
    assert Announcement.objects.get().countries.count() == 0


def test_liaison_may_not_draft_for_another_country(gb, fr, gb_liaison):
    with pytest.raises(PermissionDenied, match="You may not change data for France"):
        announcement_create(actor=gb_liaison, title="Joint statement", countries=[gb, fr])

    assert Announcement.objects.count() == 0
    assert _events("announcement.drafted") == []


def test_liaison_must_name_one_of_their_countries(gb_liaison):
    with pytest.raises(ValidationError) as err:
        announcement_create(actor=gb_liaison, title="Programme update")

    assert err.value.message_dict == {"countries": ["Name at least one of your countries."]}
    assert Announcement.objects.count() == 0


def test_liaison_with_no_country_may_not_draft(gb):
    unassigned = factories.liaison(username="unassigned")

    with pytest.raises(PermissionDenied):
        announcement_create(actor=unassigned, title="UK joins", countries=[gb])

    assert Announcement.objects.count() == 0


@pytest.mark.parametrize("countries", [[], ["GB"]])
def test_viewer_may_not_draft(viewer_user, countries):
    with pytest.raises(PermissionDenied):
        announcement_create(actor=viewer_user, title="UK joins", countries=[factories.country(c) for c in countries])
    assert Announcement.objects.count() == 0


def test_announcement_needs_a_title(staff_user):
    with pytest.raises(ValidationError) as err:
        announcement_create(actor=staff_user, title="  ")
    assert err.value.message_dict == {"title": ["This field cannot be blank."]}


# --- announcement_update ----------------------------------------------------------------------------------------------


def test_liaison_edits_their_draft(draft, gb, gb_liaison):
    announcement_update(actor=gb_liaison, announcement=draft, title="UK signs up", body="New text")

    assert Announcement.objects.values_list("title", "body").get() == ("UK signs up", "New text")
    assert _events("announcement.updated") == [(None, gb_liaison.pk, {"fields": ["body", "title"], "country_ids": [gb.pk]})]


def test_liaison_may_not_add_another_country(draft, gb, fr, gb_liaison):
    with pytest.raises(PermissionDenied):
        announcement_update(actor=gb_liaison, announcement=draft, countries=[gb, fr])
    assert list(Announcement.objects.get().countries.all()) == [gb]


def test_liaison_of_another_country_may_not_edit(draft, fr_liaison):
    with pytest.raises(PermissionDenied):
        announcement_update(actor=fr_liaison, announcement=draft, title="Hijacked")
    assert Announcement.objects.get().title == "UK joins the programme"


def test_liaison_may_not_edit_once_scheduled_but_staff_may(draft, gb_liaison, staff_user):
    announcement_schedule(actor=staff_user, announcement=draft, embargo_until=_in(24))

    with pytest.raises(PermissionDenied, match="Only programme staff may edit an announcement once it is scheduled"):
        announcement_update(actor=gb_liaison, announcement=draft, title="Late change")

    assert Announcement.objects.get().title == "UK joins the programme"
    assert _events("announcement.updated") == []

    announcement_update(actor=staff_user, announcement=draft, title="Late change")
    assert Announcement.objects.get().title == "Late change"


# --- schedule, publish, withdraw ---------------------------------------------------------------------------------------


def test_staff_schedule_under_embargo(draft, staff_user, gb):
    embargo = _in(24)

    announcement_schedule(actor=staff_user, announcement=draft, embargo_until=embargo)

    assert Announcement.objects.values_list("status", "embargo_until", "published_at").get() == ("scheduled", embargo, None)
    assert _events("announcement.scheduled") == [(None, staff_user.pk, {"embargo_until": embargo.isoformat()})]


def test_liaison_may_not_schedule(draft, gb_liaison):
    with pytest.raises(PermissionDenied, match="Only programme staff may do this."):
        announcement_schedule(actor=gb_liaison, announcement=draft, embargo_until=_in(24))
    assert Announcement.objects.get().status == "draft"


@pytest.mark.parametrize("hours", [-1, 0, None])
def test_the_embargo_must_end_in_the_future(draft, staff_user, hours):
    with time_machine.travel(timezone.now(), tick=False):
        embargo = None if hours is None else _in(hours)
        with pytest.raises(ValidationError) as err:
            announcement_schedule(actor=staff_user, announcement=draft, embargo_until=embargo)

    assert err.value.message_dict == {"embargo_until": ["The embargo must end in the future."]}
    assert Announcement.objects.values_list("status", "embargo_until").get() == ("draft", None)
    assert _events("announcement.scheduled") == []


def test_publish_waits_for_the_end_of_the_embargo(draft, staff_user, gb):
    embargo = _in(24)
    announcement_schedule(actor=staff_user, announcement=draft, embargo_until=embargo)

    with pytest.raises(ValidationError) as err:
        announcement_publish(actor=staff_user, announcement=draft)
    assert len(err.value.messages) == 1
    assert err.value.messages[0].startswith("This announcement is under embargo until ")
    assert Announcement.objects.values_list("status", "published_at").get() == ("scheduled", None)
    assert _events("announcement.published") == []

    after = embargo + datetime.timedelta(minutes=1)
    with time_machine.travel(after, tick=False):
        announcement_publish(actor=staff_user, announcement=draft)

    assert Announcement.objects.values_list("status", "published_at").get() == ("published", after)
    assert _events("announcement.published") == [(None, staff_user.pk, {"country_ids": [gb.pk], "tracks": [], "public": True})]


def test_publish_exactly_when_the_embargo_ends(draft, staff_user):
    embargo = _in(1)
    announcement_schedule(actor=staff_user, announcement=draft, embargo_until=embargo)

    with time_machine.travel(embargo, tick=False):
        announcement_publish(actor=staff_user, announcement=draft)

    assert Announcement.objects.get().status == "published"


def test_a_draft_is_published_at_once_and_only_once(draft, staff_user):
    announcement_publish(actor=staff_user, announcement=draft)

    with pytest.raises(ValidationError) as err:
        announcement_publish(actor=staff_user, announcement=draft)

    assert err.value.messages == ["Only a draft or scheduled announcement can be published."]
    assert len(_events("announcement.published")) == 1


def test_liaison_may_not_publish(draft, gb_liaison):
    with pytest.raises(PermissionDenied):
        announcement_publish(actor=gb_liaison, announcement=draft)
    assert Announcement.objects.get().status == "draft"


def test_withdraw_needs_a_reason(draft, staff_user):
    announcement_publish(actor=staff_user, announcement=draft)

    with pytest.raises(ValidationError) as err:
        announcement_withdraw(actor=staff_user, announcement=draft, reason=" ")
    assert err.value.message_dict == {"reason": ["Withdrawing an announcement needs a reason."]}
    assert Announcement.objects.get().status == "published"

    announcement_withdraw(actor=staff_user, announcement=draft, reason=" Premature ")
    assert Announcement.objects.get().status == "withdrawn"
    assert _events("announcement.withdrawn") == [(None, staff_user.pk, {"reason": "Premature"})]

    with pytest.raises(ValidationError) as err:
        announcement_withdraw(actor=staff_user, announcement=draft, reason="Again")
    assert err.value.messages == ["This announcement is already withdrawn."]
    with pytest.raises(ValidationError):
        announcement_schedule(actor=staff_user, announcement=draft, embargo_until=_in(1))


def test_liaison_may_not_withdraw(draft, gb_liaison):
    with pytest.raises(PermissionDenied):
        announcement_withdraw(actor=gb_liaison, announcement=draft, reason="Oops")
    assert Announcement.objects.get().status == "draft"
