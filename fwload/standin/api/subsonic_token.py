"""The Subsonic password: ``GET|POST|DELETE /api/v1/users/<username>/subsonic-token/``
(samples 18, 65, 66).

After ``UserViewSet.subsonic_token`` (``api/funkwhale_api/users/views.py``): scope
``security``, so a logged-in user (session, Basic) or an app token with ``write`` (``read``
for GET) may; an OAuth access token never holds it and gets 403 (funkwhale-api.md §12).
Another user's name: 403 with an empty body; ``subsonic__enabled`` off: 405, empty. GET
answers the current token (null before one was made), POST makes a new one (five random
words, like app tokens) and answers it, DELETE clears it (204).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from fwload.standin.api.views import Call, api_view
from fwload.standin.db.tables import subsonic_tokens
from fwload.standin.domain import preferences
from fwload.standin.security.tokens import new_app_token


def _empty(status: int) -> Response:
    return Response(b"", status_code=status, media_type="application/json")


@api_view(access="authenticated", scope="security")
def subsonic_token(call: Call) -> Any:
    if call.user["username"] != call.request.path_params["username"]:
        return _empty(403)
    if not preferences.get(call.conn, "subsonic__enabled"):
        return _empty(405)
    table, user_id = subsonic_tokens, call.user["id"]
    if call.request.method in ("GET", "HEAD"):
        token = call.conn.execute(select(table.c.token).where(table.c.user_id == user_id)).scalar()
        return {"subsonic_api_token": token}
    call.conn.execute(table.delete().where(table.c.user_id == user_id))
    if call.request.method == "DELETE":
        return _empty(204)
    token = new_app_token()
    call.conn.execute(table.insert().values(user_id=user_id, token=token))
    return {"subsonic_api_token": token}
