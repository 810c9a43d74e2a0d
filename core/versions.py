"""One version number for everything readers see, kept in the cache: cached pages carry it in their key.

Every write of the portal goes through a service that emits an outbox event (``core.events``): each
emit, and each status rollup, drops the version, at once and again after the commit; the next reader
starts a new one. Pages cached under an old version are never served again and expire on their own.
Role changes (groups) drop it too. With several web processes ``CACHE_URL`` must point at Redis
(docs/operations.md) so that they share it; with the per-process default a page is never older than its timeout.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

from core.cache import forget_after_outage

KEY = "data:version"
forget_after_outage(KEY)  # a change made while the cache was unreachable could not move it


def current(key: str = KEY) -> str:
    """The version under ``key``: a random token, started by the first reader after a change. Readers only add
    it, never overwrite it, and read it before the data it stands for: a page or body kept under a version can
    only hold data at least as new as that version."""
    version = cache.get(key)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(key, version, None):
            version = cache.get(key) or version
    return version


def changed(*keys: str, after_commit: bool = True) -> None:
    """Drop the versions now and, unless the caller does it in its own after-commit callback, after the commit
    (a reader between the two may have started a version on the data of before)."""
    keys = keys or (KEY,)
    cache.delete_many(keys)
    if after_commit:
        transaction.on_commit(lambda: drop(*keys))


def drop(*keys: str) -> None:
    cache.delete_many(keys or (KEY,))


def data_version() -> str:
    return current(KEY)


def data_changed(*, after_commit: bool = True) -> None:
    changed(KEY, after_commit=after_commit)
