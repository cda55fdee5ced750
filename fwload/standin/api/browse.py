"""Tracks, albums and artists: paginated lists with Funkwhale's filters and orderings
(funkwhale-api.md §3.2, samples 34-38), and details by integer id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, false, func, select

from fwload.standin.api.errors import not_found
from fwload.standin.api.pagination import paginate
from fwload.standin.api.params import RANDOM, bool_param, int_list_param, int_param, ordering, words_match
from fwload.standin.api.views import Call, api_view
from fwload.standin.db.tables import albums, artists, favorites, tracks
from fwload.standin.domain.visibility import library_track_ids, owned_track_ids, playable_track_ids


def _scoped_track_ids(call: Call) -> list[Select]:
    """Queries of track ids that ``scope=me`` and ``library=<uuid>`` restrict to."""
    restrictions = []
    if call.query("scope") == "me":
        restrictions.append(
            owned_track_ids(call.viewer_id)
            if call.viewer_id is not None
            else select(tracks.c.id).where(false())
        )
    if call.query("library"):
        restrictions.append(library_track_ids(call.query("library") or "", call.viewer_id))
    return restrictions


def _path_id(call: Call) -> int:
    try:
        return int(call.request.path_params["id"])
    except ValueError:
        raise not_found() from None


@api_view(scope="libraries")
def list_tracks(call: Call) -> dict[str, Any]:
    query = (
        select(tracks.c.id)
        .join(artists, artists.c.id == tracks.c.artist_id)
        .outerjoin(albums, albums.c.id == tracks.c.album_id)
    )
    playable = bool_param(call, "playable")
    if playable is not None:
        ids = playable_track_ids(call.viewer_id)
        query = query.where(tracks.c.id.in_(ids) if playable else tracks.c.id.not_in(ids))
    if call.query("q"):
        query = query.where(
            words_match(call.query("q") or "", [tracks.c.title, albums.c.title, artists.c.name])
        )
    if (album := int_param(call, "album")) is not None:
        query = query.where(tracks.c.album_id == album)
    if (artist := int_param(call, "artist")) is not None:
        query = query.where((tracks.c.artist_id == artist) | (albums.c.artist_id == artist))
    if ids := int_list_param(call, "id"):
        query = query.where(tracks.c.id.in_(ids))
    if call.query("title") is not None:
        query = query.where(tracks.c.title == call.query("title"))
    if call.query("title__icontains"):
        query = query.where(words_match(call.query("title__icontains") or "", [tracks.c.title]))
    if call.query_list("tag"):
        query = query.where(false())  # nothing is tagged here
    if bool_param(call, "favorites"):
        query = query.where(
            tracks.c.id.in_(select(favorites.c.track_id).where(favorites.c.user_id == call.viewer_id))
        )
    for restriction in _scoped_track_ids(call):
        query = query.where(tracks.c.id.in_(restriction))
    fields = {
        "creation_date": tracks.c.creation_date,
        "title": tracks.c.title,
        "album__title": albums.c.title,
        "album__release_date": albums.c.creation_date,
        "position": tracks.c.position,
        "disc_number": tracks.c.disc_number,
        "artist__name": artists.c.name,
        "artist__modification_date": artists.c.modification_date,
        RANDOM: None,
    }
    query = query.order_by(*ordering(call, fields, ["-creation_date"], tracks.c.id.desc()))
    return paginate(call, query, lambda page: call.catalog().tracks(page))


@api_view(scope="libraries")
def get_track(call: Call) -> Any:
    rendered = call.catalog().tracks([_path_id(call)], detail=True)
    if not rendered:
        raise not_found()
    return rendered[0]


@api_view(scope="libraries")
def list_albums(call: Call) -> dict[str, Any]:
    query = select(albums.c.id).join(artists, artists.c.id == albums.c.artist_id)
    playable = bool_param(call, "playable")
    if playable is not None:
        ids = select(tracks.c.album_id).where(tracks.c.id.in_(playable_track_ids(call.viewer_id)))
        query = query.where(albums.c.id.in_(ids) if playable else albums.c.id.not_in(ids))
    if call.query("q"):
        query = query.where(words_match(call.query("q") or "", [albums.c.title, artists.c.name]))
    if (artist := int_param(call, "artist")) is not None:
        query = query.where(albums.c.artist_id == artist)
    if call.query_list("tag"):
        query = query.where(false())
    for restriction in _scoped_track_ids(call):
        query = query.where(albums.c.id.in_(select(tracks.c.album_id).where(tracks.c.id.in_(restriction))))
    fields = {
        "creation_date": albums.c.creation_date,
        "release_date": albums.c.creation_date,
        "title": albums.c.title,
        "artist__modification_date": artists.c.modification_date,
        RANDOM: None,
    }
    query = query.order_by(*ordering(call, fields, ["-creation_date"], albums.c.id.desc()))
    return paginate(call, query, lambda page: call.catalog().albums(page))


@api_view(scope="libraries")
def get_album(call: Call) -> Any:
    rendered = call.catalog().albums([_path_id(call)], detail=True)
    if not rendered:
        raise not_found()
    return rendered[0]


@api_view(scope="libraries")
def list_artists(call: Call) -> dict[str, Any]:
    query = select(artists.c.id)
    playable = bool_param(call, "playable")
    if playable is not None:
        ids = select(tracks.c.artist_id).where(tracks.c.id.in_(playable_track_ids(call.viewer_id)))
        query = query.where(artists.c.id.in_(ids) if playable else artists.c.id.not_in(ids))
    if call.query("q"):
        query = query.where(words_match(call.query("q") or "", [artists.c.name]))
    has_albums = bool_param(call, "has_albums")
    if has_albums is not None:
        with_albums = exists().where(albums.c.artist_id == artists.c.id)
        query = query.where(with_albums if has_albums else ~with_albums)
    if call.query("name") is not None:
        query = query.where(artists.c.name == call.query("name"))
    if call.query("name__iexact") is not None:
        query = query.where(func.lower(artists.c.name) == (call.query("name__iexact") or "").lower())
    if call.query("name__startswith"):
        query = query.where(artists.c.name.startswith(call.query("name__startswith") or "", autoescape=True))
    if call.query("name__icontains"):
        query = query.where(artists.c.name.icontains(call.query("name__icontains") or "", autoescape=True))
    if call.query_list("tag"):
        query = query.where(false())
    for restriction in _scoped_track_ids(call):
        query = query.where(artists.c.id.in_(select(tracks.c.artist_id).where(tracks.c.id.in_(restriction))))
    fields = {
        "id": artists.c.id,
        "name": func.lower(artists.c.name),
        "creation_date": artists.c.creation_date,
        "modification_date": artists.c.modification_date,
        RANDOM: None,
    }
    query = query.order_by(*ordering(call, fields, ["-id"], artists.c.id.desc()))
    return paginate(call, query, lambda page: call.catalog().artists(page))


@api_view(scope="libraries")
def get_artist(call: Call) -> Any:
    rendered = call.catalog().artists([_path_id(call)], detail=True)
    if not rendered:
        raise not_found()
    return rendered[0]
