"""Who gets an inbox row for an event: subscribers and the country's liaisons, never the actor,
nobody without a role or inactive; confidential engagements only reach staff and that country's liaisons."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from announcements.services import announcement_create, announcement_publish, announcement_schedule
from core import roles
from core.models import Event
from engagements.models import Engagement
from engagements.services import engagement_log
from notifications.models import Notification
from tests import factories

from .support import move, recipients, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def audience(gb_partnership, gb_liaison, fr_liaison):
    """Everyone who might hear about a GB workforce move, keyed by username."""
    gb = gb_partnership.country
    people = {
        "gb-liaison": gb_liaison,  # implicit: assigned to GB
        "fr-liaison": fr_liaison,  # assigned to another country
        "programme-viewer": factories.viewer(username="programme-viewer"),
        "gb-viewer": factories.viewer(username="gb-viewer"),
        "workforce-viewer": factories.viewer(username="workforce-viewer"),
        "data-viewer": factories.viewer(username="data-viewer"),
        "fr-viewer": factories.viewer(username="fr-viewer"),
        "programme-staff": factories.staff(username="programme-staff"),
        "no-role": factories.make_user(username="no-role"),
        "inactive-viewer": factories.viewer(username="inactive-viewer", is_active=False),
    }
    subscribe(people["programme-viewer"], programme=True)
    subscribe(people["gb-viewer"], country=gb)
    subscribe(people["workforce-viewer"], track=factories.track("workforce"))
    subscribe(people["data-viewer"], track=factories.track("data_centres"))
    subscribe(people["fr-viewer"], country=factories.country("FR"))
    subscribe(people["programme-staff"], programme=True)
    subscribe(people["no-role"], programme=True)
    subscribe(people["no-role"], country=gb)
    subscribe(people["inactive-viewer"], programme=True)
    subscribe(people["inactive-viewer"], country=gb)
    return people


def test_a_stage_move_reaches_programme_country_and_track_subscribers_and_the_liaisons(
    audience, staff_user, gb, django_capture_on_commit_callbacks
):
    subscribe(staff_user, programme=True)  # the actor follows everything, and still hears nothing of their own move

    with django_capture_on_commit_callbacks(execute=True):
        event = move(staff_user, gb, "exploring")

    assert Event.objects.get(pk=event.pk).state == "dispatched"
    assert recipients(event) == {"gb-liaison", "programme-viewer", "gb-viewer", "workforce-viewer", "programme-staff"}


def test_the_acting_liaison_is_not_told_of_their_own_move(audience, gb, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = move(audience["gb-liaison"], gb, "exploring")

    assert "gb-liaison" not in recipients(event)
    assert recipients(event) == {"programme-viewer", "gb-viewer", "workforce-viewer", "programme-staff"}


def test_no_inbox_row_before_the_transaction_commits(audience, staff_user, gb):
    event = move(staff_user, gb, "exploring")  # the test's transaction never commits: the event stays pending

    assert Event.objects.get(pk=event.pk).state == "pending"
    assert not Notification.objects.exists()


def test_a_confidential_engagement_reaches_only_staff_and_that_countrys_liaisons(
    audience, staff_user, gb, django_capture_on_commit_callbacks
):
    subscribe(audience["fr-liaison"], country=gb)  # a liaison of another country following GB
    with django_capture_on_commit_callbacks(execute=True):
        engagement_log(
            actor=staff_user,
            country=gb,
            occurred_on=timezone.localdate(),
            kind=Engagement.Kind.MEETING,
            summary="Minister's private concerns",
            tracks=[factories.track("workforce")],
            sensitivity=Engagement.Sensitivity.CONFIDENTIAL,
        )

    event = Event.objects.get(kind="engagement.logged")
    assert event.payload["confidential"] is True
    assert recipients(event) == {"gb-liaison", "programme-staff"}


def test_a_normal_engagement_reaches_every_subscriber(audience, staff_user, gb, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        engagement_log(
            actor=staff_user,
            country=gb,
            occurred_on=timezone.localdate(),
            kind=Engagement.Kind.CALL,
            summary="Kick-off",
            tracks=[factories.track("data_centres")],
        )

    event = Event.objects.get(kind="engagement.logged")
    assert recipients(event) == {"gb-liaison", "programme-viewer", "gb-viewer", "data-viewer", "programme-staff"}


def test_announcement_drafts_and_schedules_notify_nobody_publication_notifies_its_countries(
    audience, staff_user, gb, django_capture_on_commit_callbacks
):
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            announcement = announcement_create(actor=staff_user, title="UK joins the programme", countries=[gb])
        with django_capture_on_commit_callbacks(execute=True):
            announcement_schedule(actor=staff_user, announcement=announcement, embargo_until=start + datetime.timedelta(hours=2))

        assert set(Event.objects.values_list("kind", flat=True)) >= {"announcement.drafted", "announcement.scheduled"}
        assert not Notification.objects.exists()

        traveller.move_to(start + datetime.timedelta(hours=3))
        with django_capture_on_commit_callbacks(execute=True):
            announcement_publish(actor=staff_user, announcement=announcement)

    event = Event.objects.get(kind="announcement.published")
    # Subscribers of the whole programme and of GB, and GB's liaison; not FR's people, not track-only followers.
    assert recipients(event) == {"gb-liaison", "programme-viewer", "gb-viewer", "programme-staff"}
    assert Notification.objects.count() == 4


def test_an_announcement_without_countries_reaches_programme_subscribers_only(
    audience, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        announcement = announcement_create(actor=staff_user, title="Programme annual report")
        announcement_publish(actor=staff_user, announcement=announcement)

    assert recipients(Event.objects.get(kind="announcement.published")) == {"programme-viewer", "programme-staff"}


def test_events_that_are_not_news_notify_nobody(audience, staff_user, gb, django_capture_on_commit_callbacks):
    from engagements.services import follow_up_create

    with django_capture_on_commit_callbacks(execute=True):
        follow_up_create(actor=staff_user, country=gb, description="Send the memo", due_on=timezone.localdate())

    assert Event.objects.get(kind="follow_up.created").state == "dispatched"
    assert not Notification.objects.exists()


@pytest.mark.parametrize("role", [roles.VIEWER, None], ids=["demoted to viewer", "no role left"])
def test_a_leftover_liaison_assignment_without_the_liaison_role_does_not_reveal_a_confidential_engagement(
    audience, staff_user, gb, role, django_capture_on_commit_callbacks
):
    former = factories.make_user(role, countries=["GB"], username="former-liaison")
    subscribe(former, country=gb)
    with django_capture_on_commit_callbacks(execute=True):
        engagement_log(
            actor=staff_user,
            country=gb,
            occurred_on=timezone.localdate(),
            kind=Engagement.Kind.MEETING,
            summary="Minister's private concerns",
            sensitivity=Engagement.Sensitivity.CONFIDENTIAL,
        )

    assert recipients(Event.objects.get(kind="engagement.logged")) == {"gb-liaison", "programme-staff"}
