"""Programme figures with one definition that the rollup, the dashboards and the status API share."""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal


def readiness(climbs: Iterable[tuple[int, int, bool]], track_count: int) -> Decimal:
    """A country's readiness in per cent: the share of the ladder climbed, averaged over the active tracks.

    ``climbs`` has one ``(ladder position reached, top position of that track's ladder, withdrawn)`` per cell of
    the country on an active track. A withdrawn track counts as not climbed; a paused one keeps the rung it reached.
    """
    if not track_count:
        return Decimal(0)
    climbed = sum((Decimal(position) / Decimal(top or 1) for position, top, withdrawn in climbs if not withdrawn), Decimal(0))
    return (climbed * 100 / track_count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
