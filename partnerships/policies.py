"""Programme figures with one definition that the rollup, the dashboards and the status API share."""

import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q


def readiness(climbs: Iterable[tuple[int, int, bool]], track_count: int) -> Decimal:
    """A country's readiness in per cent: the share of the ladder climbed, averaged over the active tracks.

    ``climbs`` has one ``(ladder position reached, top position of that track's ladder, withdrawn)`` per cell of
    the country on an active track. A withdrawn track counts as not climbed; a paused one keeps the rung it reached.
    """
    if not track_count:
        return Decimal(0)
    climbed = sum((Decimal(position) / Decimal(top or 1) for position, top, withdrawn in climbs if not withdrawn), Decimal(0))
    return (climbed * 100 / track_count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def next_step_overdue_q(today: datetime.date) -> Q:
    """Country-tracks whose next step has a date that has passed (needs attention until done or re-dated)."""
    return Q(next_step_due__lt=today) & ~Q(next_step="")


def next_step_is_overdue(cell, today: datetime.date) -> bool:
    """The same rule for one cell in hand."""
    return bool(cell.next_step) and cell.next_step_due is not None and cell.next_step_due < today


def packs_of(user):
    """The briefing packs a user may open: their own, and no one else's (not even a superuser's: a pack holds what
    its requester may read)."""
    from .models import BriefingPack

    return BriefingPack.objects.filter(requested_by=user).defer("pdf")
