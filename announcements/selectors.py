"""Reads of announcements, already scoped to the reader (the rules: ``announcements.policies``)."""

from django.db.models import QuerySet

from . import policies
from .models import Announcement


def announcement_list(*, user) -> QuerySet[Announcement]:
    """Every announcement the user may read (``policies.visible_q``)."""
    qs = Announcement.objects.prefetch_related("countries", "tracks", "agreements", "facilities")
    visible = policies.visible_q(user)
    return qs if visible is None else qs.filter(visible)


def public_announcements() -> QuerySet[Announcement]:
    """What anyone may read without signing in: published, public, past any embargo. Newest first."""
    return (
        Announcement.objects.filter(policies.published_q(), is_public=True)
        .prefetch_related("countries", "tracks")
        .order_by("-published_at", "-id")
    )
