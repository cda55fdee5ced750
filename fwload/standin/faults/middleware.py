"""The ASGI middleware that makes requests suffer, and counts every request the server received.

It sits in the Starlette app itself, so it works the same in embedded mode (uvicorn) and
stack mode (gunicorn's uvicorn workers behind nginx). The admin endpoints under
`ADMIN_PREFIX` pass untouched and uncounted: a test can always switch faults off.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fwload.standin.faults import answers
from fwload.standin.faults.runtime import FaultRuntime

log = logging.getLogger("fwload.standin.faults")

ADMIN_PREFIX = "/_fwload/"


class FaultMiddleware:
    def __init__(self, app: ASGIApp, runtime: FaultRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("", 0)
        decision = self.runtime.decide(scope["method"], scope["path"], scope["headers"], client[0])
        counts, group = self.runtime.counts, decision.group
        counts.add(group, "received")
        if decision.reset:
            if await answers.reset_connection(receive):
                counts.add(group, "reset")
                return
            log.warning("this server does not expose its transport: a reset is answered 502, as nginx would")
            decision.throttled, decision.error = None, 502
        if decision.throttled is not None:
            counts.add(group, "throttled")
            await answers.drain(receive)
            await decision.throttled(scope, receive, self._counting(send, group, {}))
            return
        if decision.delay_s > 0:
            counts.add(group, "delayed")
            await asyncio.sleep(decision.delay_s)
        if decision.error is not None:
            counts.add(group, "error")
            await answers.drain(receive)
            await answers.server_error(decision.error)(scope, receive, self._counting(send, group, {}))
            return
        await self.app(scope, receive, self._counting(send, group, decision.headers))

    def _counting(self, send: Send, group: str, extra_headers: dict[str, str]) -> Send:
        """``send`` that counts the answer's status and adds ``extra_headers`` to it."""
        counts = self.runtime.counts
        raw = _raw(extra_headers)

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                counts.add(group, f"status:{message['status']}")
                if raw:
                    message = {**message, "headers": [*message.get("headers", []), *raw]}
            await send(message)

        return counted_send


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
