"""Every record people edit carries a version: a write based on an older read is refused under the row lock and
changes nothing; every service write raises the version by one (core.conflicts)."""

import datetime

import pytest
from django.utils import timezone

from announcements import services as announcement_services
from core.conflicts import ConflictError
from core.models import Event
from engagements import services as engagement_services
from infrastructure import services as infrastructure_services
from partnerships import services as partnership_services
from tests import factories

pytestmark = pytest.mark.django_db


def _follow_up(gb, staff):
    return engagement_services.follow_up_create(
        actor=staff, country=gb, description="Send the note", due_on=timezone.localdate() + datetime.timedelta(days=5)
    )


def _agreement(gb, staff):
    return engagement_services.agreement_create(
        actor=staff, country=gb, kind="mou", title="MoU", signed_on=timezone.localdate() - datetime.timedelta(days=3)
    )


def _announcement(gb, staff):
    return announcement_services.announcement_create(actor=staff, title="Partnership", countries=[gb])


def _facility(gb, staff):
    return infrastructure_services.facility_create(actor=staff, country=gb, name="Campus", city="Edinburgh")


def _partnership(gb, staff):
    return partnership_services.partnership_create(actor=staff, country=gb)


# record -> (make it, its update service, the argument naming it, a field, two values of that field)
RECORDS = {
    "follow-up": (_follow_up, engagement_services.follow_up_update, "follow_up", "description", ("Call back", "Write")),
    "agreement": (_agreement, engagement_services.agreement_update, "agreement", "title", ("MoU signed", "Letter")),
    "announcement": (
        _announcement, announcement_services.announcement_update, "announcement", "title", ("Joined", "Left"),
    ),
    "facility": (_facility, infrastructure_services.facility_update, "facility", "name", ("Campus A", "Campus B")),
    "partnership": (_partnership, partnership_services.partnership_update, "partnership", "notes", ("From B", "From A")),
}  # fmt: skip


@pytest.mark.parametrize("record", RECORDS)
def test_a_write_from_an_older_read_is_refused_and_changes_nothing(record, gb, staff_user):
    make, update, name, field, (theirs, mine) = RECORDS[record]
    row = make(gb, staff_user)
    read = row.version
    other_copy = type(row).objects.get(pk=row.pk)
    update(actor=staff_user, **{name: other_copy}, expected_version=read, **{field: theirs})  # someone else, first
    assert type(row).objects.get(pk=row.pk).version == read + 1
    events = Event.objects.count()

    with pytest.raises(ConflictError) as refused:
        update(actor=staff_user, **{name: row}, expected_version=read, **{field: mine})

    assert "Your change was not saved" in refused.value.messages[0]
    assert getattr(refused.value.current, field) == theirs  # what is stored now, to show next to what was typed
    stored = type(row).objects.get(pk=row.pk)
    assert (getattr(stored, field), stored.version, Event.objects.count()) == (theirs, read + 1, events)
    # With the version just seen, the same change applies.
    update(actor=staff_user, **{name: row}, expected_version=read + 1, **{field: mine})
    assert getattr(type(row).objects.get(pk=row.pk), field) == mine


def test_every_write_of_a_follow_up_and_an_announcement_raises_its_version(gb, staff_user):
    follow_up = _follow_up(gb, staff_user)
    engagement_services.follow_up_complete(actor=staff_user, follow_up=follow_up)
    engagement_services.follow_up_reopen(actor=staff_user, follow_up=follow_up)
    assert (follow_up.version, type(follow_up).objects.get(pk=follow_up.pk).version) == (3, 3)
    with pytest.raises(ConflictError):
        engagement_services.follow_up_complete(actor=staff_user, follow_up=follow_up, expected_version=1)

    announcement = _announcement(gb, staff_user)
    when = timezone.now() + datetime.timedelta(days=1)
    announcement_services.announcement_schedule(actor=staff_user, announcement=announcement, embargo_until=when)
    announcement.refresh_from_db()
    assert announcement.version == 2
    announcement_services.announcement_release(announcement_id=announcement.pk, now=when + datetime.timedelta(seconds=1))
    announcement_services.announcement_withdraw(actor=staff_user, announcement=announcement, reason="Mistake")
    announcement.refresh_from_db()
    assert (announcement.status, announcement.version) == ("withdrawn", 4)


def test_changing_only_the_tracks_of_an_agreement_is_a_new_version(gb, staff_user):
    agreement = _agreement(gb, staff_user)
    engagement_services.agreement_update(actor=staff_user, agreement=agreement, tracks=[factories.track("workforce")])
    assert type(agreement).objects.get(pk=agreement.pk).version == 2 == agreement.version
