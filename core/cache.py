"""Django's Redis cache backend, with one Redis client per connection pool instead of one per operation.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` object for every cache call;
building it costs more than the round trip itself (0.38 ms against 0.08 ms per ``get`` on the bench
machine). A token lookup, two throttle counters and a version make five calls per API request. The
client is safe to share between threads (it only holds the pool), so this keeps one per pool.
Everything else (serialisation, options, pools) is Django's own.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(index)
        if client is None:
            client = clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def get_many_and_count(self, keys, counter: str, seconds: int) -> tuple[dict, int]:
        """``get_many(keys)`` and ``counter`` incremented (created for ``seconds`` by its first increment), in one round
        trip: a pipeline of MGET, SET NX EX and INCR. Django's own ``incr`` takes two (EXISTS, then INCRBY)."""
        made = {self.make_and_validate_key(key): key for key in keys}
        counter_key = self.make_and_validate_key(counter)
        pipe = self._cache.get_client(write=True).pipeline(transaction=False)
        if made:
            pipe.mget(list(made))
        pipe.set(counter_key, 0, ex=int(seconds), nx=True)
        pipe.incr(counter_key)
        results = pipe.execute()
        values = {}
        if made:
            loads = self._cache._serializer.loads
            values = {made[key]: loads(raw) for key, raw in zip(made, results[0], strict=True) if raw is not None}
        return values, results[-1]


def get_many_and_count(keys, counter: str, seconds: int) -> tuple[dict, int]:
    """The default cache's values of ``keys`` and the new value of the counter ``counter`` after adding one (a new
    counter expires after ``seconds``): one round trip on Redis, a few calls on other backends."""
    from django.core.cache import cache, caches

    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return backend.get_many_and_count(keys, counter, seconds)
    values = cache.get_many(keys) if keys else {}
    try:
        count = cache.incr(counter)
    except ValueError:  # the counter's first increment
        count = 1 if cache.add(counter, 1, seconds) else cache.incr(counter)
    return values, count


def count(counter: str, seconds: int) -> int:
    """Add one to ``counter`` (created for ``seconds`` by its first increment) and return its new value."""
    return get_many_and_count([], counter, seconds)[1]
