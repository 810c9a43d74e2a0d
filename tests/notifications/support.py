"""Helpers shared by the notification tests (plain functions, no autouse fixtures)."""

from core.models import Event
from notifications.models import Notification, Preference, Subscription
from partnerships.models import CountryTrack
from partnerships.services import country_track_move
from tests import factories

SENTENCE_MOVED = "{country} · {track} moved from “{src}” to “{dst}”."


def subscribe(user, *, country=None, track=None, programme=False):
    if programme:
        return Subscription.objects.create(user=user, scope=Subscription.Scope.PROGRAMME)
    if country is not None:
        return Subscription.objects.create(user=user, scope=Subscription.Scope.COUNTRY, country=country)
    return Subscription.objects.create(user=user, scope=Subscription.Scope.TRACK, track=track)


def prefer(user, frequency, language="en"):
    return Preference.objects.update_or_create(user=user, defaults={"email_frequency": frequency, "language": language})[0]


def cell(country, track_key="workforce"):
    return CountryTrack.objects.get(country=country, track__key=track_key)


def move(actor, country, stage_key, track_key="workforce"):
    """Move a country's track forward through the service; returns the stage.moved event it wrote."""
    country_track_move(actor=actor, country_track=cell(country, track_key), to_stage=factories.stage(track_key, stage_key))
    return Event.objects.filter(kind="stage.moved").latest("id")


def recipients(event):
    """Usernames with an inbox row for ``event``."""
    return set(Notification.objects.filter(event=event).values_list("user__username", flat=True))
