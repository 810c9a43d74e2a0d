"""The version of the status table, kept in the cache so that a status pull can be answered, or revalidated
(304), without a query.

It is a ``core.versions`` token under its own key: every rollup drops it (at once and again after its commit),
as does a deleted status row, and the next reader starts a new one. The status rows are what the portal's
pages show too, so the portal's data version moves with it. With several web processes ``CACHE_URL`` must
point at Redis (docs/operations.md) so that they share it.
"""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from core import versions
from core.cache import forget_after_outage

from .models import CountryStatus

KEY = "status:version"
forget_after_outage(KEY)  # a rollup made while the cache was unreachable could not move it


def status_version() -> str:
    return versions.current(KEY)


def status_changed() -> None:
    """Call after writing status rows."""
    versions.changed(KEY, versions.KEY)


@receiver(post_delete, sender=CountryStatus)
def _status_deleted(sender, **kwargs):
    status_changed()
