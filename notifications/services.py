"""Writes of notifications: preferences, subscriptions, marking read, calendar feeds."""

import datetime
import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import catalogue
from core.events import emit

from .models import CalendarFeed, Notification, Preference, Subscription


@transaction.atomic
def preferences_update(*, actor, email_frequency: str, language: str, programme: bool, countries, tracks) -> Preference:
    pref, _created = Preference.objects.get_or_create(user=actor)
    pref.email_frequency, pref.language = email_frequency, language
    pref.full_clean()
    pref.save()
    subs = Subscription.objects.filter(user=actor)
    subs.filter(scope=Subscription.Scope.COUNTRY).exclude(country__in=countries).delete()
    subs.filter(scope=Subscription.Scope.TRACK).exclude(track__in=tracks).delete()
    if not programme:
        subs.filter(scope=Subscription.Scope.PROGRAMME).delete()
    rows = [Subscription(user=actor, scope=Subscription.Scope.COUNTRY, country=c) for c in countries]
    rows += [Subscription(user=actor, scope=Subscription.Scope.TRACK, track=t) for t in tracks]
    if programme:
        rows.append(Subscription(user=actor, scope=Subscription.Scope.PROGRAMME))
    Subscription.objects.bulk_create(rows, ignore_conflicts=True)
    return pref


@transaction.atomic
def unsubscribe_from_email(*, user) -> Preference:
    pref, _created = Preference.objects.get_or_create(user=user)
    pref.email_frequency = Preference.Frequency.NEVER
    pref.save(update_fields=["email_frequency", "updated_at"])
    return pref


def notifications_mark_read(*, actor, ids=None) -> int:
    qs = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


MAX_CALENDAR_FEEDS = 10
# How often a fetch records that the feed is used: a calendar server polling every few minutes writes once an hour.
FEED_USE_PRECISION = datetime.timedelta(hours=1)


def calendar_feed_digest(secret: str) -> str:
    """What is stored of a feed's secret (and looked up): SHA-256, enough for a random 256-bit secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, actor, name: str, scope: str) -> tuple[CalendarFeed, str]:
    """A new feed for ``actor``; returns the row and its secret, which is shown once and never stored.

    Creating one hands a long-lived credential to a third party's calendar server: once the portal has a second
    factor, this is where a recent one must be required (the view asks first; see ``views.calendar_feeds``).
    """
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Give the feed a name, for example the calendar that will read it.")
    elif len(name) > 100:
        errors["name"] = _("Keep the name under 100 characters.")
    if scope not in CalendarFeed.Scope.values:
        errors["scope"] = _("Choose which follow-ups the feed holds.")
    if errors:
        raise ValidationError(errors)
    active = CalendarFeed.objects.select_for_update().filter(user=actor, revoked_at__isnull=True)
    if active.filter(name=name).exists():
        raise ValidationError({"name": _("You already have a feed called “%(name)s”.") % {"name": name}})
    if active.count() >= MAX_CALENDAR_FEEDS:
        raise ValidationError(
            _("You have %(max)s calendar feeds already: revoke one you no longer use first.") % {"max": MAX_CALENDAR_FEEDS}
        )
    secret = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=actor, name=name, scope=scope, secret_digest=calendar_feed_digest(secret))
    emit(kind=catalogue.CALENDAR_FEED_CREATED, subject=actor, actor=actor, payload={"name": name, "scope": scope})
    return feed, secret


@transaction.atomic
def calendar_feed_revoke(*, actor, feed: CalendarFeed) -> CalendarFeed:
    """From now on the feed's address answers 404. Revoking one already revoked changes nothing."""
    if actor.pk != feed.user_id and not actor.is_superuser:
        raise PermissionDenied(_("You may only revoke your own calendar feeds."))
    feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        emit(kind=catalogue.CALENDAR_FEED_REVOKED, subject=feed.user, actor=actor, payload={"name": feed.name})
    return feed


@transaction.atomic
def calendar_feeds_revoke_of_deactivated(*, user) -> int:
    """Revoke every live feed of a deactivated user (the reaction to ``user.deactivated``; the feeds already answer
    404 from the deactivation on, since ``calendar_feed_find`` asks for an active user). Returns how many were
    revoked; a user let back in keeps them revoked. Nothing happens to an active user's feeds."""
    if user.is_active:
        return 0
    revoked = 0
    for feed in CalendarFeed.objects.select_for_update().filter(user=user, revoked_at__isnull=True):
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        emit(kind=catalogue.CALENDAR_FEED_REVOKED, subject=user, payload={"name": feed.name})
        revoked += 1
    return revoked


def calendar_feed_find(secret: str) -> CalendarFeed | None:
    """The live feed of this secret: not revoked, its user active; None otherwise (the feed view answers 404)."""
    if not secret or len(secret) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(secret_digest=calendar_feed_digest(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return feed


def calendar_feed_mark_used(*, feed: CalendarFeed, now=None) -> None:
    """Record the fetch, at most once per ``FEED_USE_PRECISION`` (a plain UPDATE: no lock, no event)."""
    now = now or timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at >= FEED_USE_PRECISION:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
        feed.last_used_at = now
