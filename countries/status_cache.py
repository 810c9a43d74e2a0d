"""The version of the status table, kept in the cache so that a status pull can be answered, or revalidated
(304), without a query.

The version is the newest ``computed_at`` and the number of rows: every rollup moves the first (and
drops the cached version at once and again after its commit); a deleted status row drops it too. With
several web processes ``CACHE_URL`` must point at Redis (README) so they share it; with the per-process
default cache, a version is never older than ``SECONDS``.
"""

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.db.models.signals import post_delete
from django.dispatch import receiver

from core import versions

from .models import CountryStatus

KEY = "status:version"
SECONDS = 60


def status_version() -> str:
    version = cache.get(KEY)
    if version is None:
        summary = CountryStatus.objects.aggregate(newest=Max("computed_at"), n=Count("pk"))
        version = f"{summary['newest'].isoformat() if summary['newest'] else '-'}|{summary['n']}"
        cache.set(KEY, version, SECONDS)
    return version


def status_changed() -> None:
    """Call after writing status rows: readers recompute the version from the committed table. The status
    rows are what the portal's pages show too, so the portal's data version moves with it."""
    cache.delete_many([KEY, versions.KEY])
    transaction.on_commit(lambda: cache.delete_many([KEY, versions.KEY]))


@receiver(post_delete, sender=CountryStatus)
def _status_deleted(sender, **kwargs):
    status_changed()
