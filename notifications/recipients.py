"""Who hears about an event: subscribers of its country, its tracks or the whole programme, and the
country's liaisons (subscribed by default); never the person who did it; confidential matters only
reach staff and the country's liaisons."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from core import catalogue, roles
from countries.models import LiaisonAssignment
from countries.policies import user_can_write_country
from engagements import policies as engagement_policies

from .models import Subscription


def _country_ids(event) -> set[int]:
    ids = set(event.payload.get("country_ids", [])) if isinstance(event.payload, dict) else set()
    if event.country_id:
        ids.add(event.country_id)
    return ids


def _track_keys(event) -> set[str]:
    payload = event.payload if isinstance(event.payload, dict) else {}
    keys = set(payload.get("tracks", []))
    if payload.get("track"):
        keys.add(payload["track"])
    return keys


def recipient_ids(event) -> set[int]:
    payload = event.payload if isinstance(event.payload, dict) else {}
    if event.kind == catalogue.FOLLOW_UP_REMINDER:
        # The owner, while they still work on the country (a former liaison must not keep reading its follow-ups).
        owner = get_user_model().objects.filter(pk=payload.get("owner_id"), is_active=True).first()
        return {owner.pk} if owner and user_can_write_country(owner, event.country_id) else set()
    if event.kind in (catalogue.BRIEFING_PACK_READY, catalogue.BRIEFING_PACK_FAILED):
        # A pack is its requester's own: only they hear of it.
        return set(get_user_model().objects.filter(pk=payload.get("owner_id"), is_active=True).values_list("pk", flat=True))
    countries, tracks = _country_ids(event), _track_keys(event)
    wanted = Q(scope=Subscription.Scope.PROGRAMME)
    if countries:
        wanted |= Q(scope=Subscription.Scope.COUNTRY, country_id__in=countries)
    if tracks:
        wanted |= Q(scope=Subscription.Scope.TRACK, track__key__in=tracks)
    ids = set(Subscription.objects.filter(wanted).values_list("user_id", flat=True))
    liaisons = set(LiaisonAssignment.objects.filter(country_id__in=countries).values_list("user_id", flat=True))
    ids |= liaisons
    ids.discard(event.actor_id)
    if engagement_policies.is_confidential_event(event):
        # Only those who may see the country's confidential engagements may know of it.
        return _with_role(ids, engagement_policies.confidential_readers_q(countries))
    return _with_role(ids)


def _with_role(ids, allowed=None) -> set[int]:
    """Active users among ``ids`` who have a role in the portal (or match ``allowed``)."""
    if not ids:
        return set()
    allowed = allowed if allowed is not None else Q(is_superuser=True) | Q(groups__name__in=roles.ALL_ROLES)
    users = get_user_model().objects.filter(pk__in=ids, is_active=True).filter(allowed)
    return set(users.values_list("pk", flat=True).distinct())
