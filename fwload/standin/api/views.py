"""How an API handler runs: body parsed on the event loop, then authentication,
permission and the handler in a worker thread inside one database transaction.

Handlers are plain functions of a `Call`. They return a Response (or any ASGI app), or a
JSON-able value (sent as 200). Work that must wait for the commit (enqueueing an import,
so the worker sees the row) goes to `Call.after_commit`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, RowMapping
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fwload.standin.api.auth import Access, Identity, authorize, check_session_csrf, identify
from fwload.standin.api.catalog import Catalog
from fwload.standin.api.payload import Payload, read_payload
from fwload.standin.services import Services

Endpoint = Callable[[Request], Awaitable[Any]]


@dataclass
class Call:
    request: Request
    services: Services
    payload: Payload
    conn: Connection
    identity: Identity
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def user(self) -> RowMapping:
        assert self.identity.user is not None, "handler reached without a user"
        return self.identity.user

    @property
    def viewer_id(self) -> int | None:
        return self.identity.user["id"] if self.identity.user is not None else None

    def catalog(self) -> Catalog:
        return Catalog(self.conn, self.services.instance, self.viewer_id)

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def query_list(self, name: str) -> list[str]:
        return self.request.query_params.getlist(name)


def created(body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=201)


def api_view(
    *, access: Access = "user", scope: str | None = None
) -> Callable[[Callable[[Call], Any]], Endpoint]:
    """Make a Starlette endpoint of a handler; `scope` is Funkwhale's required_scope."""

    def decorate(handler: Callable[[Call], Any]) -> Endpoint:
        async def endpoint(request: Request) -> Any:
            services: Services = request.app.state.services
            payload = await read_payload(request, services.settings.max_body_bytes)
            try:
                return await run_in_threadpool(_run, handler, request, services, payload, access, scope)
            finally:
                await payload.close()

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return decorate


def _run(
    handler: Callable[[Call], Any],
    request: Request,
    services: Services,
    payload: Payload,
    access: Access,
    scope: str | None,
) -> Any:
    with services.db.begin() as conn:
        identity = (
            Identity() if access == "none" else identify(conn, services, request, listen=access == "listen")
        )
        authorize(conn, identity, request.method, access=access, scope=scope)
        check_session_csrf(identity, request)
        call = Call(request, services, payload, conn, identity)
        result = handler(call)
    for action in call.after_commit:
        action()
    if isinstance(result, Response) or callable(result):
        return result
    return JSONResponse(result)
