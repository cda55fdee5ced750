"""Request groups: the names the recorder files requests under and faults and SLOs aim at.

The stand-in's fault selectors (``group=``) and the tester's recorded ``group`` column use the
same names, so they live here, below both.
"""

from __future__ import annotations

from typing import Literal

REQUEST_GROUPS = (
    "instance",   # nodeinfo, instance settings, rate-limit
    "auth",       # registration, app token creation, session login, users/me
    "library",    # library create / list
    "upload",     # upload POST
    "import_poll",  # polling the upload list while waiting for an import
    "browse",     # tracks / albums / artists lists and details
    "search",
    "listen",     # audio through listen_url
    "favorites",
    "playlists",
    "history",    # listening history
    "subsonic",
)

RequestGroup = Literal[REQUEST_GROUPS]  # type: ignore[valid-type]
"""A field holding one request group (pydantic checks it against `REQUEST_GROUPS`)."""
