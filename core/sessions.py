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
