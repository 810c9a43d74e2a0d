"""One version number for everything readers see, kept in the cache: cached pages carry it in their key.

Every write of the portal goes through a service that emits an outbox event (``core.events``): each
emit, and each status rollup, drops the version, at once and again after the commit; the next reader
starts a new one. Pages cached under an old version are never served again and expire on their own.
Role changes (groups) drop it too. With several web processes ``CACHE_URL`` must point at Redis
(README) so that they share it; with the per-process default a page is never older than its timeout.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

KEY = "data:version"


def data_version() -> str:
    version = cache.get(KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(KEY, version, None):
            version = cache.get(KEY) or version
    return version


def data_changed(*, after_commit: bool = True) -> None:
    """Drop the version now and, unless the caller does it in its own after-commit callback, after the commit
    (a reader between the two may have started a version on the data of before)."""
    cache.delete(KEY)
    if after_commit:
        transaction.on_commit(drop)


def drop() -> None:
    cache.delete(KEY)
