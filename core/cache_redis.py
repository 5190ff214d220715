"""Django's Redis cache backend, keeping one ``redis.Redis`` client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache call, and
each one copies redis-py's table of some two hundred response callbacks: a checkout makes four
cache writes and a signed-in page several reads, so that copying cost more CPU than the calls.
A ``redis.Redis`` is safe to share between threads (connections come from its pool), so one is
kept per pool, as redis-py's own documentation recommends.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class _ReusedClientRedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient

    def set_each(self, items: list[tuple[str, object, object]]) -> None:
        """Set each ``(key, value, timeout)`` as ``set`` would, in one round trip (a pipeline,
        not a transaction: each is a write of its own, as separate ``set`` calls are)."""
        client = self._cache.get_client(write=True)
        pipe = client.pipeline(transaction=False)
        dumps = self._cache._serializer.dumps
        for key, value, timeout in items:
            key, timeout = self.make_and_validate_key(key), self.get_backend_timeout(timeout)
            if timeout == 0:
                pipe.delete(key)
            else:
                pipe.set(key, dumps(value), ex=timeout)
        pipe.execute()
