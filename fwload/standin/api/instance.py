"""Instance endpoints: nodeinfo (the readiness probe, and the first CSRF cookie), instance
settings, the admin's bulk settings update, and the rate-limit status (throttling off)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select
from starlette.responses import JSONResponse

from fwload.standin.api.auth import CSRF_COOKIE, set_csrf_cookie
from fwload.standin.api.errors import ApiError
from fwload.standin.api.views import Call, api_view
from fwload.standin.db.tables import albums, artists, favorites, listenings, tracks, uploads, users
from fwload.standin.domain import preferences
from fwload.standin.domain.rates import THROTTLE_SCOPES
from fwload.standin.domain.visibility import PLAYABLE_STATUSES
from fwload.standin.security.tokens import new_csrf_token

FUNKWHALE_VERSION = "1.4.0"
NODEINFO_TYPE = "application/json; profile=http://nodeinfo.diaspora.software/ns/schema/2.0#; charset=utf-8"
NODEINFO_REL = "http://nodeinfo.diaspora.software/ns/schema/2.0"
STATS_TTL_S = 600
SUPPORTED_UPLOAD_EXTENSIONS = ["aac", "aif", "aiff", "flac", "m4a", "mp3", "ogg", "opus"]
REPORT_TYPES = [
    {"type": "takedown_request", "label": "Takedown request", "anonymous": True},
    {"type": "invalid_metadata", "label": "Invalid metadata", "anonymous": False},
    {"type": "illegal_content", "label": "Illegal content", "anonymous": True},
    {"type": "offensive_content", "label": "Offensive content", "anonymous": False},
    {"type": "other", "label": "Other", "anonymous": False},
]

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _stats(conn: Connection) -> dict[str, Any]:
    def count(table: Any) -> int:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()

    seconds = conn.execute(
        select(func.coalesce(func.sum(uploads.c.duration), 0)).where(
            uploads.c.import_status.in_(PLAYABLE_STATUSES)
        )
    ).scalar_one()
    return {
        "users": count(users),
        "tracks": count(tracks),
        "artists": count(artists),
        "albums": count(albums),
        "hours": seconds / 3600,
        "favorites": count(favorites),
        "listenings": count(listenings),
        "downloads": conn.execute(select(func.coalesce(func.sum(tracks.c.downloads_count), 0))).scalar_one(),
    }


@api_view(access="none")
def nodeinfo(call: Call) -> JSONResponse:
    """NodeInfo 2.0; stats memoised 10 minutes like the real server; sets the csrftoken cookie."""
    prefs = preferences.values(call.conn)
    stats = call.services.cache.get("nodeinfo:stats")
    if stats is None:
        stats = _stats(call.conn)
        call.services.cache.set("nodeinfo:stats", stats, STATS_TTL_S)
    body = {
        "version": "2.0",
        "software": {"name": "funkwhale", "version": FUNKWHALE_VERSION},
        "protocols": ["activitypub"],
        "services": {"inbound": ["atom1.0"], "outbound": ["atom1.0"]},
        "openRegistrations": prefs["users__registration_enabled"],
        "usage": {
            "users": {
                "total": stats["users"],
                "activeHalfyear": stats["users"],
                "activeMonth": stats["users"],
            }
        },
        "metadata": {
            "actorId": call.services.instance.fid("actors/service"),
            "private": False,
            "shortDescription": prefs["instance__short_description"],
            "longDescription": prefs["instance__long_description"],
            "contactEmail": prefs["instance__contact_email"],
            "nodeName": prefs["instance__name"],
            "banner": None,
            "defaultUploadQuota": prefs["users__upload_quota"],
            "supportedUploadExtensions": SUPPORTED_UPLOAD_EXTENSIONS,
            "allowList": {"enabled": prefs["moderation__allow_list_enabled"], "domains": None},
            "funkwhaleSupportMessageEnabled": prefs["instance__funkwhale_support_message_enabled"],
            "instanceSupportMessage": prefs["instance__support_message"],
            "usage": {
                "favorites": {"tracks": {"total": stats["favorites"]}},
                "listenings": {"total": stats["listenings"]},
                "downloads": {"total": stats["downloads"]},
            },
            "library": {
                "federationEnabled": True,
                "anonymousCanListen": not prefs["common__api_authentication_required"],
                "tracks": {"total": stats["tracks"]},
                "artists": {"total": stats["artists"]},
                "albums": {"total": stats["albums"]},
                "music": {"hours": stats["hours"]},
            },
            "reportTypes": REPORT_TYPES,
            "endpoints": {"knownNodes": None, "channels": None, "libraries": None},
            "rules": prefs["instance__rules"],
            "terms": prefs["instance__terms"],
        },
    }
    response = JSONResponse(body, media_type=NODEINFO_TYPE)
    current = call.request.cookies.get(CSRF_COOKIE, "")
    set_csrf_cookie(response, current if len(current) == 64 and current.isalnum() else new_csrf_token())
    return response


@api_view(access="none")
def well_known_nodeinfo(call: Call) -> dict[str, Any]:
    href = f"{call.services.instance.url}/api/v1/instance/nodeinfo/2.0"
    return {"links": [{"rel": NODEINFO_REL, "href": href}]}


@api_view(access="none")
def instance_settings(call: Call) -> list[dict[str, Any]]:
    return preferences.describe_all(call.conn)


@api_view(access="admin", scope="instance:settings")
def admin_settings(call: Call) -> list[dict[str, Any]]:
    return preferences.describe_all(call.conn)


@api_view(access="admin", scope="instance:settings")
def admin_settings_bulk(call: Call) -> list[dict[str, Any]]:
    """Set several preferences at once; answer with the updated ones only (sample 05)."""
    document = call.payload.document
    if not isinstance(document, dict):
        raise ApiError(400, {"non_field_errors": ["Expected an object of {identifier: value}."]})
    errors: dict[str, str] = {}
    updates: dict[str, Any] = {}
    for identifier, value in document.items():
        preference = preferences.REGISTRY.get(identifier)
        if preference is None:
            errors[identifier] = f"Unknown preference {identifier}"
            continue
        try:
            updates[identifier] = preference.coerce(value)
        except ValueError as error:
            errors[identifier] = str(error)
    if errors:
        raise ApiError(400, errors)
    for identifier, value in updates.items():
        preferences.set_value(call.conn, identifier, value)
    return [preferences.REGISTRY[key].describe(value) for key, value in updates.items()]


@api_view(access="public")
def rate_limit(call: Call) -> dict[str, Any]:
    """Throttling is off in the stand-in unless a throttle fault is armed: then ``enabled`` is true,
    as a client checking before its load would see on a throttling Funkwhale. Every scope shows
    its full allowance (the fault's own window is not mirrored here)."""
    if call.identity.user is not None:
        ident = {"type": "authenticated", "id": str(call.identity.user["id"])}
    else:
        client = call.request.client
        ident = {"type": "anonymous", "id": client.host if client else ""}
    scopes = []
    for scope_id, rate, description in THROTTLE_SCOPES:
        amount, period = rate.split("/")
        limit = int(amount)
        scopes.append(
            {
                "id": scope_id,
                "rate": rate,
                "description": description,
                "limit": limit,
                "duration": _PERIODS[period[0]],
                "remaining": limit,
                "available": None,
                "available_seconds": None,
                "reset": None,
                "reset_seconds": None,
            }
        )
    plan, _ = call.services.faults.plan()
    throttling = any(rule.throttle is not None for rule in plan.requests)
    return {"enabled": throttling, "ident": ident, "scopes": scopes}
