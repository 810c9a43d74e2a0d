"""A track that falls stalled by the passing of time alone: the rollup writes track.health_changed, liaisons hear of it."""

import datetime

import pytest
import time_machine
from django.core import mail

from core.models import Event
from notifications.models import Notification
from partnerships.rollup import rollup_countries
from tests import factories

from .support import cell, move, prefer, recipients, subscribe

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock(settings):
    settings.TIME_ZONE = "UTC"  # the days and periods below are UTC days
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def exploring(clock, gb_partnership, gb_liaison, staff_user, django_capture_on_commit_callbacks):
    """GB workforce moved to exploring (stalled after 60 days without activity), rolled up as on track."""
    with django_capture_on_commit_callbacks(execute=True):
        move(staff_user, gb_partnership.country, "exploring")
    assert cell(gb_partnership.country).health == "on_track"
    return cell(gb_partnership.country)


def _health_events():
    return list(Event.objects.filter(kind="track.health_changed").order_by("id"))


def test_a_track_stalled_by_time_alone_is_news_for_the_liaison(
    exploring, clock, gb_liaison, fr_liaison, django_capture_on_commit_callbacks
):
    assert factories.stage("workforce", "exploring").stalled_after_days == 60
    prefer(gb_liaison, "immediate")
    mail.outbox.clear()

    clock.move_to(START + datetime.timedelta(days=60))
    with django_capture_on_commit_callbacks(execute=True):
        rollup_countries()
    assert _health_events() == []  # 60 days is not longer than 60
    assert cell(exploring.country).health == "on_track"

    clock.move_to(START + datetime.timedelta(days=61))
    with django_capture_on_commit_callbacks(execute=True):
        rollup_countries()

    (event,) = _health_events()
    assert (event.country_id, event.subject_type, event.subject_id, event.actor_id, event.state) == (
        exploring.country_id,
        "partnerships.countrytrack",
        str(exploring.pk),
        None,
        "dispatched",
    )
    assert event.payload == {"track": "workforce", "from": "on_track", "to": "stalled"}
    assert cell(exploring.country).health == "stalled"
    assert recipients(event) == {"gb-liaison"}
    (message,) = mail.outbox
    assert "United Kingdom · Workforce training is now stalled." in message.body


def test_running_the_rollup_again_adds_no_event(exploring, clock, gb_liaison, django_capture_on_commit_callbacks):
    clock.move_to(START + datetime.timedelta(days=61))
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            rollup_countries()
        clock.move_to(START + datetime.timedelta(days=62))

    assert len(_health_events()) == 1
    assert Notification.objects.filter(user=gb_liaison, event__kind="track.health_changed").count() == 1


def test_track_subscribers_hear_of_it_too_and_it_reads_in_french(
    exploring, clock, gb_liaison, django_capture_on_commit_callbacks
):
    from notifications.describe import Describer

    follower = factories.viewer(username="workforce-viewer")
    subscribe(follower, track=factories.track("workforce"))
    clock.move_to(START + datetime.timedelta(days=61))
    with django_capture_on_commit_callbacks(execute=True):
        rollup_countries()

    (event,) = _health_events()
    assert recipients(event) == {"gb-liaison", "workforce-viewer"}
    assert Describer([event]).describe(event, "fr") == "Royaume-Uni · Formation de la main-d'œuvre est désormais au point mort."


def test_an_engagement_keeps_the_track_on_track(exploring, clock, gb_liaison, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from engagements.services import engagement_log

    clock.move_to(START + datetime.timedelta(days=50))
    with django_capture_on_commit_callbacks(execute=True):
        engagement_log(
            actor=gb_liaison,
            country=exploring.country,
            occurred_on=timezone.localdate(),
            kind="call",
            summary="Check-in",
            tracks=[exploring.track],
        )
    clock.move_to(START + datetime.timedelta(days=61))
    with django_capture_on_commit_callbacks(execute=True):
        rollup_countries()

    assert _health_events() == []
    assert cell(exploring.country).health == "on_track"


def test_an_overdue_follow_up_puts_the_track_at_risk_once(exploring, clock, gb_liaison, django_capture_on_commit_callbacks):
    factories.FollowUpFactory(
        country=exploring.country, track=exploring.track, due_on=START.date() + datetime.timedelta(days=3), description="Send it"
    )
    clock.move_to(START + datetime.timedelta(days=4))
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            rollup_countries()

    (event,) = _health_events()
    assert event.payload == {"track": "workforce", "from": "on_track", "to": "at_risk"}
    assert recipients(event) == {"gb-liaison"}
