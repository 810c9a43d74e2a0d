"""Reads of tracks and their ladders."""

from django.db.models import QuerySet

from .models import Track


def track_list(*, active_only: bool = True) -> QuerySet[Track]:
    qs = Track.objects.prefetch_related("stages")
    return qs.filter(is_active=True) if active_only else qs
