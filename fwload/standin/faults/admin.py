"""The stand-in's own admin endpoints, under ``/_fwload/`` (not Funkwhale's API): faults and counts.

A test or `fwload run` switches faults on and off mid-run and reads what the server
received. The admin's credentials are required (HTTP Basic or an app token of a
superuser, as for Funkwhale's own admin endpoints); the fault middleware lets these
requests through untouched and uncounted.

    GET    /_fwload/faults    the plan in force, when it was armed, one line per fault
    PUT    /_fwload/faults    arm a plan (the JSON form of a scenario's ``faults:``) from now
    DELETE /_fwload/faults    no faults from now
    GET    /_fwload/counts    per request group: received, reset, throttled, error, delayed, status
    DELETE /_fwload/counts    count from zero from now
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fwload.common.faults import Faults
from fwload.common.messages import describe
from fwload.standin.api.errors import ApiError
from fwload.standin.api.views import Call, api_view
from fwload.standin.faults.middleware import ADMIN_PREFIX

NO_RESTARTS = (
    "restarts: the stand-in cannot restart itself; whoever started it does "
    "(StandinProcess.restart, or faults.restarts in a scenario)"
)
FAULTS_PATH = f"{ADMIN_PREFIX}faults"
COUNTS_PATH = f"{ADMIN_PREFIX}counts"


def _state(call: Call) -> dict[str, Any]:
    plan, elapsed = call.services.faults.plan()
    return {
        "faults": plan.model_dump(mode="json", by_alias=True),
        "armed_at": time.time() - elapsed,
        "elapsed_s": elapsed,
        "described": plan.describe(),
    }


@api_view(access="admin")
def show_faults(call: Call) -> dict[str, Any]:
    return _state(call)


@api_view(access="admin")
def arm_faults(call: Call) -> dict[str, Any]:
    raw = call.payload.document if call.payload.document is not None else {}
    try:
        plan = Faults.model_validate(raw)
    except ValidationError as error:
        raise ApiError(400, {"faults": describe(error, Faults, raw)}) from None
    if plan.restarts:
        raise ApiError(400, {"faults": [NO_RESTARTS]})
    call.services.faults.board.arm(plan)
    return _state(call)


@api_view(access="admin")
def clear_faults(call: Call) -> dict[str, Any]:
    call.services.faults.board.arm(Faults())
    return _state(call)


@api_view(access="admin")
def show_counts(call: Call) -> dict[str, Any]:
    return {"groups": call.services.faults.counts.totals()}


@api_view(access="admin")
def reset_counts(call: Call) -> Response:
    call.services.faults.counts.reset()
    return Response(status_code=204)


def admin_routes() -> list[BaseRoute]:
    return [
        Route(FAULTS_PATH, show_faults, methods=["GET"]),
        Route(FAULTS_PATH, arm_faults, methods=["PUT", "POST"]),
        Route(FAULTS_PATH, clear_faults, methods=["DELETE"]),
        Route(COUNTS_PATH, show_counts, methods=["GET"]),
        Route(COUNTS_PATH, reset_counts, methods=["DELETE"]),
    ]
