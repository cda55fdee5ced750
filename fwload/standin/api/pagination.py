"""DRF page-number pagination as Funkwhale configures it (funkwhale-api.md §3.1).

``page_size`` defaults to 50 and is capped at 50; an unusable value falls back to 50. A page
that is not a number, below 1 or past the last page is 404 ``{"detail": "Invalid page."}``
(page 1 of an empty list is fine). ``next``/``previous`` are absolute URLs whose query
parameters are sorted, as DRF writes them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

from sqlalchemy import Select, func, select
from starlette.requests import Request

from fwload.standin.api.errors import not_found
from fwload.standin.api.views import Call

PAGE_SIZE = 50


def page_size(call: Call) -> int:
    raw = call.query("page_size")
    if raw is None or not raw.strip().isdigit() or int(raw) < 1:
        return PAGE_SIZE
    return min(int(raw), PAGE_SIZE)


def paginate(call: Call, ids: Select, render: Callable[[Sequence[Any]], list[Any]]) -> dict[str, Any]:
    """Count `ids` (a query of one column), cut the requested page, render it."""
    size = page_size(call)
    total = call.conn.execute(select(func.count()).select_from(ids.order_by(None).subquery())).scalar_one()
    pages = max(1, math.ceil(total / size))
    raw = (call.query("page") or "1").strip()
    number = pages if raw == "last" else int(raw) if raw.isdigit() else 0
    if not 1 <= number <= pages:
        raise not_found("Invalid page.")
    page_ids = call.conn.execute(ids.limit(size).offset((number - 1) * size)).scalars().all()
    return {
        "count": total,
        "next": _page_url(call.request, number + 1) if number < pages else None,
        "previous": _page_url(call.request, number - 1 if number > 2 else None) if number > 1 else None,
        "results": render(page_ids),
    }


def absolute_base(request: Request) -> str:
    """Scheme and host as the client addressed us (X-Forwarded-Host first, as Django is set up)."""
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or request.url.netloc
    return f"{request.url.scheme}://{host}"


def _page_url(request: Request, page: int | None) -> str:
    params = parse_qs(request.url.query, keep_blank_values=True)
    if page is None:
        params.pop("page", None)
    else:
        params["page"] = [str(page)]
    query = urlencode(sorted(params.items()), doseq=True)
    return f"{absolute_base(request)}{request.url.path}" + (f"?{query}" if query else "")
