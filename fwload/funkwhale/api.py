"""What Funkwhale 1.4 expects and answers, independent of the HTTP client sending it.

User classes (Locust's FastHttpSession), pre-flight checks and provisioning (requests) all
build their bodies and read the answers through these functions, so the knowledge of
fields, statuses and quirks (funkwhale-api.md §11–12) sits in one module.
"""

from __future__ import annotations

import json
import random
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FINAL_IMPORT_STATUSES = frozenset({"finished", "skipped", "errored"})
"""Real 1.4 leaves untagged or non-audio files ``pending`` forever: always wait with a deadline."""

PLAYABLE_IMPORT_STATUSES = frozenset({"finished", "skipped"})

UNPARSABLE_UPLOAD_STATUSES = (500,)
"""How real 1.4 answers the upload POST of a file mutagen takes for audio and cannot parse
(a corrupt ``.mp3``): ``UploadForOwnerSerializer.validate`` reads duration and bitrate with
``mutagen.File`` unguarded, ``HeaderNotFoundError`` escapes and Django answers its HTML 500;
nothing is stored (music/serializers.py, music/utils.py::get_audio_file_data). A file of no
audio type at all (a ``.txt``) is accepted instead, and stays ``pending`` forever."""

APP_SCOPES = "read write"
MAX_PAGE_SIZE = 50


class UnexpectedAnswer(Exception):
    """The server answered with the expected status but a body the user cannot use."""

    prefix = "unusable answer: "
    """What a recorded failure says before the message (a server's own error says it itself)."""


@dataclass(frozen=True, slots=True)
class TrackRef:
    """What a listener keeps from a track list item: the API has no track uuid field."""

    id: int
    listen_url: str
    title: str = ""
    artist: str = ""
    duration_s: float | None = None
    """From the upload the listen URL serves (whole seconds on 1.4), when the answer says."""
    bitrate_bps: float | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Throttle:
    retry_after_s: float
    scope: str


# -- accounts and authentication ------------------------------------------------------

_USERNAME_ALPHABET = string.ascii_lowercase + string.digits


def new_username(prefix: str = "fwl") -> str:
    """A username real Funkwhale accepts: ASCII word characters, not a reserved name."""
    return prefix + "".join(random.choices(_USERNAME_ALPHABET, k=10))


def new_password() -> str:
    """Long, random, not numeric-only and unlike the username (Django's validators)."""
    return secrets.token_urlsafe(18)


def registration_body(username: str, password: str) -> dict[str, str]:
    return {
        "username": username,
        "email": f"{username}@fwload.invalid",
        "password1": password,
        "password2": password,
    }


OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"


def app_body(name: str = "fwload") -> dict[str, str]:
    """An application whose ``token`` is the per-account Bearer token (§1.4); the out-of-band
    redirect URI is the one real 1.4 accepted in the captured exchange."""
    return {"name": name, "scopes": APP_SCOPES, "redirect_uris": OOB_REDIRECT_URI}


def parse_app_token(body: Any) -> str:
    token = body.get("token") if isinstance(body, Mapping) else None
    if not token:
        raise UnexpectedAnswer("the app creation answer has no 'token' (was the request authenticated?)")
    return str(token)


def parse_listen_token(me: Any) -> str | None:
    tokens = me.get("tokens") if isinstance(me, Mapping) else None
    return tokens.get("listen") if isinstance(tokens, Mapping) else None


def login_form(username: str, password: str) -> dict[str, str]:
    """Session login reads ``request.POST``: form-encoded, never JSON (§1.2)."""
    return {"username": username, "password": password}


CSRF_COOKIE = "csrftoken"
SESSION_COOKIE = "sessionid"
CSRF_HEADER = "X-CSRFToken"


# -- libraries and uploads ----------------------------------------------------------

def library_body(name: str, privacy_level: str) -> dict[str, str]:
    return {"name": name, "description": "fwload load test library", "privacy_level": privacy_level}


def upload_fields(library_uuid: str, import_reference: str, filename: str) -> dict[str, str]:
    """The multipart fields besides ``audio_file``, as the web UI sends them (§2.2)."""
    return {"library": library_uuid, "import_reference": import_reference, "source": f"upload://{filename}"}


def import_poll_params(import_reference: str) -> dict[str, str]:
    """A pending upload's detail GET is 404 (§2.2): poll the list by import reference."""
    return {"import_reference": import_reference, "page_size": "1"}


def parse_import_state(page: Any) -> tuple[str, Mapping[str, Any] | None]:
    """``(import_status, upload)`` of the first upload in a poll answer."""
    results = page.get("results") if isinstance(page, Mapping) else None
    if not isinstance(results, list):
        raise UnexpectedAnswer("the upload list answer has no 'results' list")
    if not results:
        raise UnexpectedAnswer("the upload list has no upload with this import_reference")
    upload = results[0]
    return str(upload.get("import_status", "")), upload


def track_of_upload(upload: Mapping[str, Any]) -> TrackRef | None:
    """The uploaded track, with the audio facts of this upload (its ``duration``, ``bitrate``, ``size``)."""
    track = upload.get("track")
    if not isinstance(track, Mapping) or not track.get("listen_url"):
        return None
    return _track_ref(track, upload)


# -- browsing ------------------------------------------------------------------------

def tracks_params(page: int, page_size: int = 25) -> dict[str, str]:
    """User-centric listing: ``playable=true`` hides what the user cannot play (§3.2)."""
    return {"playable": "true", "page": str(page), "page_size": str(min(page_size, MAX_PAGE_SIZE))}


def playable_tracks(page: Any) -> list[TrackRef]:
    results = page.get("results") if isinstance(page, Mapping) else None
    if not isinstance(results, list):
        raise UnexpectedAnswer("the track list answer has no 'results' list")
    return [_track_ref(t) for t in results if isinstance(t, Mapping) and t.get("listen_url")]


def page_count(page: Any, page_size: int) -> int:
    count = page.get("count", 0) if isinstance(page, Mapping) else 0
    return max(1, -(-int(count) // page_size))


def _track_ref(track: Mapping[str, Any], upload: Mapping[str, Any] | None = None) -> TrackRef:
    """``upload``: the upload the listen URL serves; else the track's first upload, which is
    the one ``listen_url`` picks (playable uploads, local first, §4.1)."""
    artist = track.get("artist")
    if upload is None:
        uploads = track.get("uploads")
        upload = uploads[0] if isinstance(uploads, list) and uploads and isinstance(uploads[0], Mapping) else {}
    return TrackRef(
        id=int(track["id"]),
        listen_url=str(track["listen_url"]),
        title=str(track.get("title") or ""),
        artist=str(artist.get("name") or "") if isinstance(artist, Mapping) else "",
        duration_s=_positive(upload.get("duration")),
        bitrate_bps=_positive(upload.get("bitrate")),
        size=int(size) if (size := _positive(upload.get("size"))) is not None else None,
    )


def _positive(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def search_params(query: str) -> dict[str, str]:
    return {"q": query}


def search_tracks(body: Any) -> list[TrackRef]:
    tracks = body.get("tracks") if isinstance(body, Mapping) else None
    if not isinstance(tracks, list):
        raise UnexpectedAnswer("the search answer has no 'tracks' list")
    return [_track_ref(t) for t in tracks if isinstance(t, Mapping) and t.get("listen_url")]


def track_body(track_id: int) -> dict[str, int]:
    """Favorites and listenings take the integer track id."""
    return {"track": track_id}


# -- streaming -------------------------------------------------------------------------

TRANSCODE_FORMATS = ("mp3", "ogg", "opus", "aac")
"""Formats a listener may ask ``to=`` (§4.3; 1.4 also knows m4a and flac, which players do not ask)."""
MAX_BITRATE_KBPS = 320
"""Funkwhale clamps ``max_bitrate`` to 0-320 kbps, 0 meaning no cap (§4.1)."""


@dataclass(frozen=True, slots=True)
class Transcode:
    """What a play asks the server to transcode to: a format, a bitrate cap (kbps), or both.

    Real 1.4 transcodes synchronously with ffmpeg when ``to`` differs from the upload's
    format or its bitrate is above ``max_bitrate``, then caches the result (§4.3)."""

    to: str | None = None
    max_bitrate: int | None = None

    def query(self) -> str:
        """``?to=ogg&max_bitrate=128``: in the URL and, secret-free, in the request name."""
        parts = [f"to={self.to}"] if self.to else []
        if self.max_bitrate:
            parts.append(f"max_bitrate={self.max_bitrate}")
        return "&".join(parts)

    @property
    def label(self) -> str:
        """How a play is tagged in the run directory: ``ogg``, ``ogg@128``, ``@128``."""
        return (self.to or "") + (f"@{self.max_bitrate}" if self.max_bitrate else "")


def listen_path(listen_url: str, listen_token: str | None = None, transcode: Transcode | None = None) -> str:
    """The audio URL; with ``tokens.listen`` it authenticates like the web player's <audio>."""
    extra = [transcode.query()] if transcode is not None and transcode.query() else []
    if listen_token:
        extra.append(f"token={listen_token}")
    if not extra:
        return listen_url
    separator = "&" if "?" in listen_url else "?"
    return f"{listen_url}{separator}{'&'.join(extra)}"


def listen_name(template: str, transcode: Transcode | None) -> str:
    """The request name of an audio fetch: the path template, plus what was asked, never a token."""
    query = transcode.query() if transcode is not None else ""
    return f"{template}?{query}" if query else template


def range_header(start: int, length: int) -> str:
    return f"bytes={start}-{start + length - 1}"


def content_range_total(value: str | None) -> int | None:
    """Total size from ``Content-Range: bytes 0-1023/81223`` (``*`` when unknown)."""
    if not value or "/" not in value:
        return None
    total = value.rsplit("/", 1)[1].strip()
    return int(total) if total.isdigit() else None


AUDIO_ACCEPT = "*/*"
"""The listen view only renders ``audio/*``: ``Accept: application/json`` gets 406 (§4.1)."""

NGINX_BYPASS_FIX = "point --host at the nginx Service or the ingress, not at the api"


def nginx_bypassed(headers: Mapping[str, str], size: int) -> bool:
    """A 200/206 listen answer with no body and ``X-Accel-Redirect``: real 1.4 leaves the
    audio to nginx (§4.2), so a client that sees this reached the api behind nginx's back."""
    return not size and bool(headers.get("X-Accel-Redirect") or headers.get("X-Sendfile"))


LISTENING_AFTER_S = 240.0


def listening_due_s(duration_s: float) -> float:
    """Where the web player records a listening: once the position passes half the track or
    4 minutes, whichever is first (ListenBrainz's rule, front/src/composables/audio/player.ts)."""
    return min(duration_s / 2, LISTENING_AFTER_S)


def audio_problem(headers: Mapping[str, str], size: int | None) -> str:
    """Why a 200/206 listen answer is not the audio a listener would hear ("" when it is).

    Seen by a client, an empty body with ``X-Accel-Redirect`` is nginx bypassed, and every
    play would "succeed" in milliseconds. An HTML page is the web app's fallback for a media
    URL nginx does not serve; a JSON or XML body is an API error (a Subsonic ``status: failed``
    answer is 200). ``size``: the body's length (None while not known). Headers are read only
    as far as needed: this runs for every audio request of every play.
    """
    if size == 0:
        if nginx_bypassed(headers, size):
            return f"the answer has no audio, only X-Accel-Redirect: nginx is bypassed ({NGINX_BYPASS_FIX})"
        return "the answer has an empty body where audio was expected"
    content_type = headers.get("Content-Type") or ""
    if content_type.startswith("text/html"):
        return "the answer is an HTML page, not audio (a media URL that nginx does not serve?)"
    if content_type.startswith(("application/json", "text/xml", "application/xml")):
        return f"the answer is {content_type.split(';')[0]}, not audio (an API error)"
    return ""


# -- throttling ----------------------------------------------------------------------

def throttle_of(status: int, headers: Mapping[str, str] | None) -> Throttle | None:
    """Is this answer Funkwhale throttling the client?

    A 429 always is. Real 1.4 answers a throttled *login* with HTTP 500 while still sending
    ``X-RateLimit-Remaining: 0`` and ``Retry-After`` (§12), so that counts too.
    """
    if status != 429 and status != 500:
        return None
    get = headers.get if headers is not None else (lambda _k, _d=None: None)
    retry_after = get("Retry-After") or get("retry-after")
    remaining = get("X-RateLimit-Remaining") or get("x-ratelimit-remaining")
    if status == 500 and not (remaining == "0" and retry_after):
        return None
    scope = get("X-RateLimit-Scope") or get("x-ratelimit-scope") or ""
    try:
        seconds = float(retry_after) if retry_after else 1.0
    except ValueError:
        seconds = 1.0
    return Throttle(retry_after_s=max(seconds, 0.0), scope=str(scope))


def rate_limit_summary(body: Any) -> tuple[bool, list[dict[str, Any]]]:
    """``(enabled, scopes)`` from ``GET /api/v1/rate-limit/``."""
    if not isinstance(body, Mapping):
        raise UnexpectedAnswer("the rate-limit answer is not a JSON object")
    scopes = body.get("scopes") or []
    return bool(body.get("enabled")), [s for s in scopes if isinstance(s, Mapping)]


def nodeinfo_summary(body: Any) -> dict[str, Any]:
    """Version, open registrations and upload extensions from nodeinfo 2.0."""
    if not isinstance(body, Mapping) or "software" not in body:
        raise UnexpectedAnswer("the nodeinfo answer has no 'software' field: is this a Funkwhale server?")
    metadata = body.get("metadata") or {}
    return {
        "software": str(body["software"].get("name", "")),
        "version": str(body["software"].get("version", "")),
        "open_registrations": bool(body.get("openRegistrations")),
        "upload_extensions": list(metadata.get("supportedUploadExtensions") or []),
    }


def error_code(body: bytes | None) -> str:
    """``": upload_quota_reached"`` from a 400's ``non_field_errors`` / ``detail`` (else ""), so
    a refusal that says why is told apart from the others in the reports."""
    try:
        answer = json.loads(body or b"null")
    except ValueError:
        return ""
    if not isinstance(answer, Mapping):
        return ""
    reason = answer.get("non_field_errors") or answer.get("detail")
    if isinstance(reason, list):
        reason = reason[0] if reason else None
    return f": {str(reason)[:80]}" if isinstance(reason, str) and reason else ""
