"""The Redis cache backend (core.cache): Django's own, reusing one client per pool."""

import json
import os

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.test import override_settings

from core.cache import RedisCache
from tests.conftest import needs

REDIS_URL = os.environ.get("REDIS_URL", "")


def test_the_backend_reuses_its_client_and_behaves_as_djangos():
    needs(bool(REDIS_URL), "REDIS_URL is not set: no Redis to cache in")
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-cache-backend"})
    reference = DjangoRedisCache(REDIS_URL, {"KEY_PREFIX": "test-cache-backend"})
    try:
        assert cache._cache.get_client() is cache._cache.get_client(write=False)
        cache.set("n", 41, 30)
        assert reference.get("n") == 41  # the same keys and serialisation as Django's backend
        assert cache.incr("n") == 42
        assert cache.add("n", 0) is False
        cache.set_many({"a": {"x": [1, 2]}, "b": "text"}, 30)
        assert cache.get_many(["a", "b", "missing"]) == {"a": {"x": [1, 2]}, "b": "text"}
        cache.delete_many(["a", "b"])
        assert cache.get("a") is None
    finally:
        cache.delete_many(["n", "a", "b"])


def test_settings_pick_it_for_a_redis_cache_url():
    import subprocess
    import sys
    from pathlib import Path

    code = "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "CACHE_URL": "redis://127.0.0.1:6379/1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert out.stdout.strip().splitlines()[-1] == "core.cache.RedisCache", out.stderr


def test_while_redis_does_not_answer_every_call_is_a_miss_and_the_next_ones_do_not_even_try(monkeypatch):
    from redis.connection import AbstractConnection

    from core import cache as portal_cache
    from core.cache import get_many_and_count

    portal_cache.reset()
    attempts = []
    original = AbstractConnection.connect
    monkeypatch.setattr(AbstractConnection, "connect", lambda self: attempts.append(1) or original(self))
    closed = RedisCache("redis://127.0.0.1:9/0", {"OPTIONS": {"socket_connect_timeout": 1}})  # nothing listens on port 9
    try:
        assert closed.get("k", "default") == "default"
        assert len(attempts) == 1 and portal_cache.cache_seems_down()
        assert closed.get_many(["a", "b"]) == {}
        assert closed.add("k", 1) is False and closed.set("k", 1) is None and closed.set_many({"a": 1}) == []
        assert closed.incr("n") == 1 and closed.touch("k") is False and closed.has_key("k") is False
        assert closed.delete("k") is False and closed.delete_many(["a"]) is None and closed.clear() is None
        with override_settings(CACHES={"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}}):
            assert get_many_and_count(["a"], "counter", 60) == ({}, 0)  # nothing counted: the rate limits fail open
        assert len(attempts) == 1  # during the pause, no call tried to connect
        monkeypatch.setattr(portal_cache, "PAUSE_SECONDS", 0)
        portal_cache._state["down_until"] = 0.0  # the pause is over
        assert closed.get("k") is None and len(attempts) == 2  # tried again (and down again)
    finally:
        portal_cache.reset()


def test_a_change_refused_for_want_of_the_cache_is_a_503_saying_nothing_changed(rf, db):
    from django.contrib.auth.models import AnonymousUser

    from core.cache import CacheUnavailable
    from core.middleware import CacheUnavailableMiddleware

    middleware = CacheUnavailableMiddleware(lambda request: None)
    api = middleware.process_exception(rf.post("/api/v1/anything/"), CacheUnavailable())
    assert api.status_code == 503 and api["Retry-After"] == "10"
    assert json.loads(api.content)["errors"][0]["code"] == "cache_unavailable"
    request = rf.post("/account/api-tokens/x/revoke/")
    request.user = AnonymousUser()
    page = middleware.process_exception(request, CacheUnavailable())
    assert page.status_code == 503 and "nothing was changed" in page.content.decode()
    assert middleware.process_exception(request, ValueError()) is None  # other errors are not its business
