"""What a webhook receiver gets for each kind of record is a published contract: the body of a delivery keeps the
shape and the subject types it had before the models moved out of the partnerships app."""

import datetime
import json

import pytest
import time_machine
from django.utils import timezone

from announcements.services import announcement_create, announcement_publish
from core.models import Event
from engagements.services import engagement_log, follow_up_create
from notifications.webhooks import event_body
from partnerships.models import CountryTrack
from partnerships.services import country_track_move
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 20, 9, 30, tzinfo=datetime.UTC)


def _body(kind):
    event = Event.objects.filter(kind=kind).latest("id")
    return event, json.loads(event_body(event))


@time_machine.travel(NOW, tick=False)
def test_the_bodies_receivers_get_keep_their_shape_and_subject_types(gb_partnership, gb_liaison, staff_user):
    gb = gb_partnership.country
    workforce = factories.track("workforce")
    engagement = engagement_log(
        actor=gb_liaison, country=gb, occurred_on=timezone.localdate(), kind="meeting", summary="Kick-off", tracks=[workforce]
    )
    follow_up = follow_up_create(actor=gb_liaison, country=gb, description="Send the note", due_on=datetime.date(2026, 12, 1))
    cell = CountryTrack.objects.get(country=gb, track=workforce)
    country_track_move(actor=gb_liaison, country_track=cell, to_stage=factories.stage("workforce", "exploring"))
    announcement = announcement_publish(
        actor=staff_user, announcement=announcement_create(actor=staff_user, title="Out", countries=[gb])
    )

    event, body = _body("engagement.logged")
    assert body == {
        "id": event.pk,
        "kind": "engagement.logged",
        "created_at": "2026-11-20T09:30:00Z",
        "country": "GB",
        "subject": {"type": "partnerships.engagement", "id": str(engagement.pk)},
        "payload": {"tracks": ["workforce"], "confidential": False, "follow_ups": []},
    }
    assert _body("follow_up.created")[1]["subject"] == {"type": "partnerships.followup", "id": str(follow_up.pk)}
    event, body = _body("stage.moved")
    assert body["subject"] == {"type": "partnerships.countrytrack", "id": str(cell.pk)}
    assert body["payload"] == {
        "track": "workforce",
        "from": "not_started",
        "to": "exploring",
        "stage_change": body["payload"]["stage_change"],
    }
    event, body = _body("announcement.published")
    assert body["subject"] == {"type": "partnerships.announcement", "id": str(announcement.pk)}
    assert body["payload"] == {"country_ids": [gb.pk], "tracks": [], "public": True}
