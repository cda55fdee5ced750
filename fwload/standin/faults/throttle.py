"""Funkwhale's rate limiter, for the ``throttle`` fault: DRF's sliding window, kept in the stand-in's cache.

As the real one (funkwhale-api.md §1.7): one history of request times per scope and ident,
the ident being the user for an authenticated request and the client IP (one proxy hop
deep in ``X-Forwarded-For``) for an anonymous one; the history lives in the cache (Redis
for real and in stack mode), so every API worker shares it.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass

from fwload.common.faults import PERIOD_S, ThrottleFault
from fwload.standin.backends.cache import Cache
from fwload.standin.domain.rates import THROTTLE_SCOPES
from fwload.standin.faults import answers


@dataclass(frozen=True)
class Verdict:
    throttled: bool
    headers: dict[str, str]


class Limiter:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def check(
        self, rule_id: int, fault: ThrottleFault, scope: str, ident: str, rng: random.Random
    ) -> Verdict:
        """Throttle this request or let it through; either way, the headers the answer carries."""
        if fault.storm is not None:
            if rng.random() >= fault.storm:
                return Verdict(False, {})
            limit, duration = default_limit(scope)
            return Verdict(True, answers.storm_headers(limit, duration, scope, fault.retry_after))
        limit, duration = fault.limit()
        key = f"fwload-throttle:{rule_id}:{scope}:{ident}"
        now = time.time()
        history = list(self.cache.get(key) or [])
        while history and history[-1] <= now - duration:
            history.pop()
        if len(history) >= limit:
            return Verdict(True, answers.rate_limit_headers(limit, duration, scope, history))
        history.insert(0, now)
        self.cache.set(key, history, duration)
        return Verdict(False, answers.rate_limit_headers(limit, duration, scope, history))


def default_limit(scope: str) -> tuple[int, int]:
    """(requests, seconds) of Funkwhale's default rate for ``scope``, shown by a storm's headers."""
    rates = {name: rate for name, rate, _ in THROTTLE_SCOPES}
    amount, _, period = rates.get(scope, "1000/hour").partition("/")
    return int(amount), PERIOD_S[period[0]]


def ident_of(headers: dict[str, str], client_host: str) -> tuple[str, bool]:
    """(ident, authenticated): the credentials' digest, else the client IP as DRF's NUM_PROXIES=1 gives it."""
    credential = headers.get("authorization") or _session_cookie(headers.get("cookie", ""))
    if credential:
        return "user:" + hashlib.sha256(credential.encode()).hexdigest()[:16], True
    forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
    return "ip:" + (forwarded[-1] if forwarded else client_host), False


def _session_cookie(cookie: str) -> str:
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "sessionid":
            return value
    return ""
