"""Sessions and memoised values in Redis, shared by every API worker (Funkwhale's CACHE_URL).

Funkwhale configures django-redis to ignore Redis errors, so a Redis outage shows as
logged-out users and repeated work rather than 500s; this cache does the same.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from fwload.standin.backends.cache import Cache
from fwload.standin.settings import StandinSettings

log = logging.getLogger("fwload.standin.cache")


class RedisCache(Cache):
    """JSON values under ``<prefix>:cache:<key>`` with a TTL in milliseconds."""

    def __init__(self, url: str, prefix: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._prefix = f"{prefix}:cache:"

    @classmethod
    def from_settings(cls, settings: StandinSettings) -> RedisCache:
        if not settings.redis_url:
            raise ValueError("cache='redis' needs redis_url")
        return cls(settings.redis_url, settings.redis_prefix)

    def get(self, key: str) -> Any | None:
        try:
            raw = self._client.get(self._prefix + key)
        except redis.RedisError as error:
            log.warning("cache get ignored: %s", error)
            return None
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl_s: float) -> None:
        try:
            self._client.set(self._prefix + key, json.dumps(value), px=max(1, int(ttl_s * 1000)))
        except redis.RedisError as error:
            log.warning("cache set ignored: %s", error)

    def delete(self, key: str) -> None:
        try:
            self._client.delete(self._prefix + key)
        except redis.RedisError as error:
            log.warning("cache delete ignored: %s", error)
