"""`fwload.funkwhale.subsonic` reads real Funkwhale 1.4.0 Subsonic answers (samples 18, 57-63, 66)
and builds the requests Subsonic apps send."""

from __future__ import annotations

import hashlib
import json

import pytest

from fwload.funkwhale import subsonic
from tests.test_funkwhale_api import body


def test_the_artist_list_search_and_random_songs_are_read():
    artists = subsonic.artists(body("59-subsonic-getArtists.json"))
    assert artists == [subsonic.Item(4, "Sample Artist f5a1a4", "ar-4")]
    songs = subsonic.search_songs(body("61-subsonic-search3.json"))
    assert [s.id for s in songs] == [15, 14, 16] and songs[0].name == "Quokkaf5a1a4 Night"
    assert all(s.cover_art is None for s in songs), "no album cover: no coverArt key"
    assert [s.id for s in subsonic.random_songs(body("62-subsonic-getRandomSongs.json"))] == [15, 14]
    subsonic.ok(body("57-subsonic-ping-noauth.json"))


@pytest.mark.parametrize("name, code, message", [
    ("58-subsonic-getArtists-noauth.json", 10, "subsonic 10: Required parameter is missing."),
    ("60-subsonic-getArtists-wrong-password.json", 40, "subsonic 40: Wrong username or password."),
])
def test_a_failed_status_is_an_error_with_its_code(name, code, message):
    with pytest.raises(subsonic.SubsonicError) as raised:
        subsonic.artists(body(name))
    assert raised.value.code == code and f"{raised.value.prefix}{raised.value}" == message


def test_a_bare_empty_answer_is_ok_and_anything_else_unusable():
    subsonic.ok({})
    with pytest.raises(subsonic.UnexpectedAnswer, match="subsonic-response"):
        subsonic.ok({"detail": "Not found."})


def test_the_subsonic_token_answer():
    assert subsonic.parse_token(body("18-subsonic-token-create.json")) == "<redacted>"
    assert subsonic.parse_token({"subsonic_api_token": None}) is None
    with pytest.raises(subsonic.UnexpectedAnswer):
        subsonic.parse_token({"detail": "x"})


def test_credentials_in_each_form():
    token = subsonic.credentials("anna", "sun-moon", "token")
    assert token["u"] == "anna" and "p" not in token
    assert token["t"] == hashlib.md5(("sun-moon" + token["s"]).encode()).hexdigest()
    assert subsonic.credentials("anna", "sun-moon", "token")["s"] != token["s"], "a new salt every call"
    assert subsonic.credentials("anna", "sun-moon", "enc") == {"u": "anna", "p": "enc:" + b"sun-moon".hex()}
    assert subsonic.credentials("anna", "sun-moon", "clear") == {"u": "anna", "p": "sun-moon"}
    query = subsonic.params({"u": "anna"}, id=3)
    assert query == {"u": "anna", "v": subsonic.API_VERSION, "c": "fwload", "f": "json", "id": "3"}


def test_stream_names_say_what_was_asked_and_never_who():
    assert subsonic.stream_name(None, None) == "/rest/stream.view"
    assert subsonic.stream_name("ogg", 128) == "/rest/stream.view?format=ogg&maxBitRate=128"
    assert subsonic.stream_params(9, None, 96) == {"id": 9, "maxBitRate": 96}
    assert subsonic.path("getAlbum") == "/rest/getAlbum.view"


def test_an_error_payload_in_place_of_media_is_found():
    failed = json.dumps(body("60-subsonic-getArtists-wrong-password.json")).encode()
    error = subsonic.failure_of("application/json", failed)
    assert error is not None and error.code == 40
    assert subsonic.failure_of("audio/mpeg", failed) is None
    assert subsonic.failure_of("text/xml", b"<not json") is not None
