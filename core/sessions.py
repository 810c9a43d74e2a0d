"""Sessions read from the cache and written through to the database (Django's ``cached_db``), except that ending a
session must reach the cache first.

Django deletes a session from the database, then from the cache. With the cache unreachable (core/cache.py treats
that as a miss), a sign-out would leave the cached copy, which every process that can still read Redis would go on
serving. Here a session ended (``flush``: signing out, or signing in as someone else) has its cached copy deleted
first and strictly: if Redis does not answer, the sign-out is refused (503, "try again") and nothing is ended
half-way. A key cycled at sign-in (``cycle_key``) keeps Django's behaviour: the old key's data moves to the new
key, and a stale copy left under the old key holds no signed-in user.
"""

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore

from core.cache import must


class SessionStore(CachedDbSessionStore):
    def flush(self):
        if self.session_key is not None:
            must("delete", self.cache_key_prefix + self.session_key)
        super().flush()


def end_sessions(session_keys) -> None:
    """End these sessions now, whichever session engine is configured: their cached copies first and strictly (the
    change is refused, 503, if the cache does not answer), then their rows; the cached copies again after the commit,
    in case a request read a row before it went and cached it once more."""
    from importlib import import_module

    from django.conf import settings
    from django.core.cache import caches
    from django.db import transaction

    keys = [key for key in session_keys if key]
    if not keys:
        return
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    prefix = getattr(store_class, "cache_key_prefix", None)
    if prefix is not None:
        cached = [prefix + key for key in keys]
        must("delete_many", cached)
        alias = getattr(settings, "SESSION_CACHE_ALIAS", "default")
        transaction.on_commit(lambda: caches[alias].delete_many(cached))
    for key in keys:
        store_class(session_key=key).delete(key)
