"""Every non-trivial read of engagements, follow-ups and agreements, already scoped to the reader."""

from django.db.models import QuerySet
from django.utils import timezone

from core import roles

from . import policies
from .models import Agreement, Engagement, FollowUp


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
