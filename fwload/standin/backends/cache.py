"""Short-lived shared state: sessions and memoised values (Redis's job in real Funkwhale).

Embedded mode keeps it in this process's memory; stack mode plugs a Redis client behind
the same three methods, so API workers share sessions.
"""

from __future__ import annotations

import abc
import threading
import time
from typing import Any

from fwload.standin.settings import StandinSettings


class Cache(abc.ABC):
    """A key-value store with expiry; values are JSON-compatible."""

    @abc.abstractmethod
    def get(self, key: str) -> Any | None: ...

    @abc.abstractmethod
    def set(self, key: str, value: Any, ttl_s: float) -> None: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None: ...


class MemoryCache(Cache):
    """A dict with expiry times, safe to use from the request threads and the import thread."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires <= time.monotonic():
                del self._items[key]
                return None
            return value

    def set(self, key: str, value: Any, ttl_s: float) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + ttl_s, value)
            if len(self._items) > 10_000:
                self._drop_expired()

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def _drop_expired(self) -> None:
        moment = time.monotonic()
        for key in [k for k, (expires, _) in self._items.items() if expires <= moment]:
            del self._items[key]


def make_cache(settings: StandinSettings) -> Cache:
    return {"memory": MemoryCache}[settings.cache]()
