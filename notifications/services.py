"""Writes of notifications: preferences, subscriptions, marking read."""

from django.db import transaction
from django.utils import timezone

from .models import Notification, Preference, Subscription


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
