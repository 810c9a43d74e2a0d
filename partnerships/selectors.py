"""Every non-trivial read of partnership data, already scoped to the user who reads."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from core import roles
from countries.selectors import assigned_country_ids

from .models import Agreement, Announcement, CountryTrack, Engagement, FollowUp, Partnership, StageChange, Track


def user_can_see_confidential(user, country_id) -> bool:
    """Confidential engagements are seen only by programme staff and the country's liaisons."""
    return roles.is_programme_staff(user) or (roles.is_liaison(user) and country_id in assigned_country_ids(user))


def engagement_list(*, user) -> QuerySet[Engagement]:
    """Engagements the user may read (confidential ones only for staff and the country's liaisons)."""
    qs = Engagement.objects.select_related("country", "logged_by").prefetch_related("tracks", "counterparts")
    if not roles.can_read(user):
        return qs.none()
    if roles.is_programme_staff(user):
        return qs
    visible = Q(sensitivity=Engagement.Sensitivity.NORMAL)
    if roles.is_liaison(user):
        visible |= Q(country_id__in=assigned_country_ids(user))
    return qs.filter(visible)


def follow_up_list(*, user) -> QuerySet[FollowUp]:
    """Follow-ups the user may read (those of confidential engagements follow the same rule)."""
    qs = FollowUp.objects.select_related("country", "engagement", "track", "owner", "done_by")
    if not roles.can_read(user):
        return qs.none()
    if roles.is_programme_staff(user):
        return qs
    visible = Q(engagement__isnull=True) | Q(engagement__sensitivity=Engagement.Sensitivity.NORMAL)
    if roles.is_liaison(user):
        visible |= Q(country_id__in=assigned_country_ids(user))
    return qs.filter(visible)


def open_follow_ups(*, user, owner=None) -> QuerySet[FollowUp]:
    qs = follow_up_list(user=user).filter(done_at__isnull=True)
    if owner is not None:
        qs = qs.filter(owner=owner)
    return qs.order_by("due_on", "id")


def overdue_follow_ups(*, user) -> QuerySet[FollowUp]:
    return open_follow_ups(user=user).filter(due_on__lt=timezone.localdate())


def track_list(*, active_only: bool = True) -> QuerySet[Track]:
    qs = Track.objects.prefetch_related("stages")
    return qs.filter(is_active=True) if active_only else qs


def country_track_list() -> QuerySet[CountryTrack]:
    return CountryTrack.objects.select_related("country", "track", "stage", "ladder_stage", "owner")


def stage_change_list(*, country_track=None) -> QuerySet[StageChange]:
    qs = StageChange.objects.select_related(
        "country_track__country", "country_track__track", "from_stage", "to_stage", "actor",
        "evidence_engagement", "evidence_agreement", "evidence_announcement",
    )  # fmt: skip
    return qs.filter(country_track=country_track) if country_track is not None else qs


def partnership_list() -> QuerySet[Partnership]:
    return Partnership.objects.select_related("country", "country__status", "lead_liaison")


def agreement_list() -> QuerySet[Agreement]:
    return Agreement.objects.select_related("country").prefetch_related("tracks")


def published_announcements_q(now=None) -> Q:
    """Published, and past any embargo: what non-staff may see."""
    now = now or timezone.now()
    return Q(status=Announcement.Status.PUBLISHED, published_at__lte=now) & (
        Q(embargo_until__isnull=True) | Q(embargo_until__lte=now)
    )


def announcement_list(*, user) -> QuerySet[Announcement]:
    """Staff see every announcement. Liaisons see what is published and the drafts of their countries
    (never one that is scheduled under embargo). Viewers see what is published; anonymous callers what is
    published and public."""
    qs = Announcement.objects.prefetch_related("countries", "tracks", "agreements", "facilities")
    published = published_announcements_q()
    if roles.is_programme_staff(user):
        return qs
    if roles.is_liaison(user):
        own_drafts = Announcement.countries.through.objects.filter(
            country_id__in=assigned_country_ids(user), announcement__status=Announcement.Status.DRAFT
        ).values("announcement_id")
        return qs.filter(published | Q(pk__in=own_drafts))
    if roles.can_read(user):
        return qs.filter(published)
    return qs.filter(published, is_public=True)


def public_announcements() -> QuerySet[Announcement]:
    """What anyone may read without signing in: published, public, past any embargo. Newest first."""
    return (
        Announcement.objects.filter(published_announcements_q(), is_public=True)
        .prefetch_related("countries", "tracks")
        .order_by("-published_at", "-id")
    )
