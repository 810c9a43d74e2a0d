"""The Redis cache backend (core.cache): Django's own, reusing one client per pool."""

import os

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

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
