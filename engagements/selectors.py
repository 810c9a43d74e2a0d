"""Every non-trivial read of engagements, follow-ups and agreements, already scoped to the reader."""

import datetime

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from core import roles
from countries.models import Counterpart
from tracks.models import Track

from . import policies
from .models import Agreement, Engagement, EngagementTrack, FollowUp


def engagement_list(*, user, include_voided: bool = False) -> QuerySet[Engagement]:
    """Engagements the user may read (confidential ones only for staff and the country's liaisons). Voided ones
    only with ``include_voided``, and only for programme staff (``policies.visible_engagements_q``)."""
    qs = Engagement.objects.select_related("country", "logged_by", "voided_by").prefetch_related("tracks", "counterparts")
    if not roles.can_read(user):
        return qs.none()
    visible = policies.visible_engagements_q(user, include_voided=include_voided)
    return qs if visible is None else qs.filter(visible)


def follow_up_list(*, user) -> QuerySet[FollowUp]:
    """Follow-ups the user may read (those of confidential engagements follow the same rule)."""
    qs = FollowUp.objects.select_related("country", "engagement", "track", "owner", "done_by")
    if not roles.can_read(user):
        return qs.none()
    visible = policies.visible_follow_ups_q(user)
    return qs if visible is None else qs.filter(visible)


def open_follow_ups(*, user, owner=None) -> QuerySet[FollowUp]:
    qs = follow_up_list(user=user).filter(done_at__isnull=True)
    if owner is not None:
        qs = qs.filter(owner=owner)
    return qs.order_by("due_on", "id")


def overdue_follow_ups(*, user) -> QuerySet[FollowUp]:
    return open_follow_ups(user=user).filter(due_on__lt=timezone.localdate())


def agreement_list() -> QuerySet[Agreement]:
    return Agreement.objects.select_related("country").prefetch_related("tracks")


def engagements_for_export(*, user, country=None, track_key: str = "") -> QuerySet[Engagement]:
    """The engagements a download holds: those ``user`` may read (``engagement_list``: confidential ones only for
        those who may see them, never a voided one), of ``country`` and on the track ``track_key`` if given, newest
        first. Only the names of their tracks and counterparts are read (never a counterpart's e-mail or phone), as
    ``track_list`` and ``counterpart_list``."""
    qs = engagement_list(user=user).select_related(None).select_related("country", "logged_by").prefetch_related(None)
    if country is not None:
        qs = qs.filter(country=country)
    if track_key:
        qs = qs.filter(pk__in=Engagement.tracks.through.objects.filter(track__key=track_key).values("engagement_id"))
    return qs.prefetch_related(
        # Lists (``to_attr``), not related managers: one fewer object per engagement and relation.
        Prefetch("tracks", queryset=Track.objects.only("pk", "name_en", "name_fr", "position", "key"), to_attr="track_list"),
        Prefetch(
            "counterparts",
            queryset=Counterpart.objects.only("pk", "name", "erased_at").order_by("name", "pk"),
            to_attr="counterpart_list",
        ),
    ).order_by("-occurred_on", "-id")


def newest_link_on_track(
    rule: Q, *, on_or_after: datetime.date | None = None, on_or_before: datetime.date | None = None
) -> Subquery:
    """For each row of a query on country-tracks (``country_id``, ``track_id``): the date of the newest engagement on
    that country's track that ``rule`` counts (``policies.in_activity_q`` or ``in_published_figures_q`` with the
    ``engagement__`` prefix), within the dates given. The links carry their engagement's country and date
    (``EngagementTrack``), so this is one step down their index per country-track, however many engagements there
    are; grouping the links through the engagements read all of them."""
    links = EngagementTrack.objects.filter(rule).filter(country_id=OuterRef("country_id"), track_id=OuterRef("track_id"))
    if on_or_after is not None:
        links = links.filter(occurred_on__gte=on_or_after)
    if on_or_before is not None:
        links = links.filter(occurred_on__lte=on_or_before)
    return Subquery(links.order_by("-occurred_on").values("occurred_on")[:1])
