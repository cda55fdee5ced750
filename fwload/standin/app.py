"""The ASGI application: routes, error dress, and the services' start and stop.

`build_app` takes ready `Services`, so any ASGI server can host it: uvicorn in one process
here (embedded mode), gunicorn with uvicorn workers behind nginx later (stack mode).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from fwload.standin.api.errors import ApiError, handle_api_error, handle_http_exception
from fwload.standin.api.routes import routes
from fwload.standin.faults.admin import admin_routes
from fwload.standin.faults.middleware import FaultMiddleware
from fwload.standin.services import Services


def build_app(services: Services, *, own_services: bool = True) -> Starlette:
    """`own_services=False` when the caller starts and stops them (to report start errors itself)."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if own_services:
            await run_in_threadpool(services.start)
        try:
            yield
        finally:
            # A gunicorn worker then dies by the SIGTERM uvicorn re-raises, so no atexit flush runs:
            # the counts of requests answered during its graceful shutdown must be written here.
            services.faults.counts.flush()
            if own_services:
                await run_in_threadpool(services.stop)

    app = Starlette(
        routes=routes(nginx_part=services.settings.audio_serving == "direct") + admin_routes(),
        middleware=[Middleware(FaultMiddleware, runtime=services.faults)],
        exception_handlers={ApiError: handle_api_error, HTTPException: handle_http_exception},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.services = services
    return app
