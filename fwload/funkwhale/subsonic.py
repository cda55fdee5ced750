"""Everything fwload knows about Funkwhale 1.4's Subsonic API (funkwhale-api.md §7, samples 57-63).

Apps reach it through nginx's ``/rest/<method>.view`` (the suffix DSub and Ultrasonic
send) with ``u`` and either the salted token ``t = md5(password + s)`` with a fresh salt
``s`` (every modern app) or ``p`` in clear or as ``enc:<hex>``. The password is not the
account's: it is the Subsonic token made by ``POST /api/v1/users/<name>/subsonic-token/``
(§1.6), which rotates it. Every answer is HTTP 200; something wrong is ``status: failed``
with an error code (10 missing parameter, 40 wrong credentials, 70 not found, 0 other).
``scrobble`` answers a bare ``{}`` (Funkwhale's renderer does not wrap an empty payload).

Request names are the method paths (``/rest/getAlbum.view``): the credentials ride in the
query string and must never reach a name, a log or the run directory.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fwload.funkwhale.api import UnexpectedAnswer

REST = "/rest/"
API_VERSION = "1.16.1"
"""What current apps announce as ``v`` (Funkwhale ignores ``v`` and ``c``)."""
CLIENT = "fwload"
AuthForm = Literal["token", "enc", "clear"]

WRONG_CREDENTIALS = 40
ERROR_TYPES = ("application/json", "text/xml")
"""An answer of these types to ``stream`` or ``getCoverArt`` is an error, not media."""


def path(method: str) -> str:
    """``/rest/getAlbum.view``: the URL path, and the request name."""
    return f"{REST}{method}.view"


class SubsonicError(UnexpectedAnswer):
    """``status: failed``: recorded as ``subsonic <code>: <message>``."""

    prefix = ""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"subsonic {code}: {message}")
        self.code = code


# -- credentials ------------------------------------------------------------------------

def credentials(username: str, password: str, form: AuthForm = "token") -> dict[str, str]:
    """``u`` plus the password in the form asked; ``token`` takes a new salt every call."""
    if form == "token":
        salt = secrets.token_hex(6)
        digest = hashlib.md5((password + salt).encode("utf-8")).hexdigest()  # noqa: S324 - the protocol's hash
        return {"u": username, "t": digest, "s": salt}
    if form == "enc":
        return {"u": username, "p": "enc:" + password.encode("utf-8").hex()}
    return {"u": username, "p": password}


def params(auth: Mapping[str, str], **values: str | int) -> dict[str, str]:
    """Every call's query: credentials, ``v``, ``c``, ``f=json`` and the method's own values."""
    return {**auth, "v": API_VERSION, "c": CLIENT, "f": "json", **{k: str(v) for k, v in values.items()}}


TOKEN_FIELD = "subsonic_api_token"


def parse_token(body: Any) -> str | None:
    """``{"subsonic_api_token": ...}``; null when the account never made one."""
    if not isinstance(body, Mapping) or TOKEN_FIELD not in body:
        raise UnexpectedAnswer(f"the subsonic-token answer has no {TOKEN_FIELD!r}")
    token = body[TOKEN_FIELD]
    return str(token) if token else None


# -- answers -----------------------------------------------------------------------------

def payload(body: Any) -> Mapping[str, Any]:
    """The ``subsonic-response`` object of an answer; `SubsonicError` when it says failed."""
    if isinstance(body, Mapping) and not body:
        return {}
    response = body.get("subsonic-response") if isinstance(body, Mapping) else None
    if not isinstance(response, Mapping):
        raise UnexpectedAnswer("the answer has no 'subsonic-response' (is this a Subsonic API?)")
    if response.get("status") == "failed":
        error = response.get("error") if isinstance(response.get("error"), Mapping) else {}
        raise SubsonicError(int(error.get("code", 0)), str(error.get("message", "")))
    if response.get("status") != "ok":
        raise UnexpectedAnswer(f"subsonic status {response.get('status')!r}")
    return response


def explain_failure(content_type: str | None, body: Callable[[], bytes]) -> str | None:
    """``subsonic 70: ...`` for an error payload where audio was expected (the body is read
    only when the Content-Type says it is one), else None."""
    if not (content_type or "").startswith(ERROR_TYPES):
        return None
    error = failure_of(content_type, body())
    return str(error) if error is not None else None


def failure_of(content_type: str | None, body: bytes) -> SubsonicError | None:
    """The error inside a media answer (``stream``, ``getCoverArt``), else None."""
    if not (content_type or "").startswith(ERROR_TYPES):
        return None
    try:
        payload(json.loads(body or b"null"))
    except SubsonicError as error:
        return error
    except (UnexpectedAnswer, ValueError):
        return SubsonicError(0, "an error payload where media was expected")
    return None


@dataclass(frozen=True, slots=True)
class Item:
    """An artist, album or song as an app keeps it: id, name, cover art id (if any); a song
    also its ``duration`` (s), ``bitrate`` (kbps) and ``size`` (bytes), as sample 62 shows."""

    id: int
    name: str
    cover_art: str | None = None
    duration_s: float | None = None
    bitrate_bps: float | None = None
    size: int | None = None


def _items(entries: Any, name_key: str) -> list[Item]:
    if not isinstance(entries, list):
        raise UnexpectedAnswer(f"expected a list of objects with {name_key!r}")
    return [Item(int(e["id"]), str(e.get(name_key) or ""), e.get("coverArt"), _number(e.get("duration")),
                 _number(e.get("bitrate"), 1000), _whole(e.get("size")))
            for e in entries if isinstance(e, Mapping) and "id" in e]


def _number(value: Any, scale: float = 1.0) -> float | None:
    return float(value) * scale if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def artists(body: Any) -> list[Item]:
    """``getArtists``: ``artists.index[].artist[]``."""
    index = payload(body).get("artists", {}).get("index")
    if not isinstance(index, list):
        raise UnexpectedAnswer("getArtists has no artists.index list")
    return [item for letter in index if isinstance(letter, Mapping)
            for item in _items(letter.get("artist", []), "name")]


def artist_albums(body: Any) -> tuple[Item, list[Item]]:
    """``getArtist``: the artist and ``artist.album[]``."""
    artist = payload(body).get("artist")
    if not isinstance(artist, Mapping):
        raise UnexpectedAnswer("getArtist has no artist object")
    return _items([artist], "name")[0], _items(artist.get("album", []), "name")


def album_songs(body: Any) -> tuple[Item, list[Item]]:
    """``getAlbum``: the album and ``album.song[]``."""
    album = payload(body).get("album")
    if not isinstance(album, Mapping):
        raise UnexpectedAnswer("getAlbum has no album object")
    return _items([album], "name")[0], _items(album.get("song", []), "title")


def search_songs(body: Any) -> list[Item]:
    """``search3``: ``searchResult3.song[]`` (artists and albums found are not played)."""
    result = payload(body).get("searchResult3")
    if not isinstance(result, Mapping):
        raise UnexpectedAnswer("search3 has no searchResult3 object")
    return _items(result.get("song", []), "title")


def random_songs(body: Any) -> list[Item]:
    """``getRandomSongs``: ``randomSongs.song[]``."""
    result = payload(body).get("randomSongs")
    if not isinstance(result, Mapping):
        raise UnexpectedAnswer("getRandomSongs has no randomSongs object")
    return _items(result.get("song", []), "title")


def ok(body: Any) -> None:
    """For methods whose answer only has to say ok (ping, getLicense, getMusicFolders, scrobble)."""
    payload(body)


# -- method parameters ---------------------------------------------------------------------

def search_params(query: str, songs: int) -> dict[str, int | str]:
    return {"query": query, "artistCount": 0, "albumCount": 0, "songCount": songs}


def stream_params(song_id: int, fmt: str | None, max_bitrate: int | None) -> dict[str, int | str]:
    """``format`` and ``maxBitRate`` (kbps) only when transcoding is wanted; Funkwhale then
    gives mp3 for a bitrate cap without a format (``SUBSONIC_DEFAULT_TRANSCODING_FORMAT``)."""
    values: dict[str, int | str] = {"id": song_id}
    if fmt:
        values["format"] = fmt
    if max_bitrate:
        values["maxBitRate"] = max_bitrate
    return values


def stream_name(fmt: str | None, max_bitrate: int | None) -> str:
    """``/rest/stream.view?format=ogg&maxBitRate=128``: what was asked, never who asked."""
    asked = [f"format={fmt}"] if fmt else []
    if max_bitrate:
        asked.append(f"maxBitRate={max_bitrate}")
    return path("stream") + (f"?{'&'.join(asked)}" if asked else "")


def scrobble_params(song_id: int, submission: bool) -> dict[str, int | str]:
    """``submission=false`` is "now playing" (no listening recorded); ``true`` records one."""
    return {"id": song_id, "submission": "true" if submission else "false"}


def words(items: Sequence[Item]) -> list[str]:
    """Whole words of known names, for searches an app user would type."""
    return [word for item in items for word in item.name.split() if len(word) >= 3 and word.isalnum()]
