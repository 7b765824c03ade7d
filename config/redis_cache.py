"""Django's Redis cache with one redis-py client per connection pool.

Django's ``RedisCacheClient.get_client`` shares the connection pool but wraps it in a new
``redis.Redis`` on every cache call; with redis-py 8 that costs about 76 µs, more than half
of a ``cache.get`` on this machine (bench/load/overhead.py). The client is thread-safe (it
takes a connection from the pool per command), so one per pool is enough.
"""

from django.core.cache.backends import redis


class PooledRedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:  # as Django's _get_connection_pool, for this index
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients.setdefault(
                index, self._client(connection_pool=self._pools[index])
            )
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
