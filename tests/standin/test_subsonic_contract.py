"""The stand-in's Subsonic API replays the real Funkwhale 1.4.0 exchanges (samples 18, 57-63, 65,
66): same status codes, same JSON keys; where no sample shows a shape, the keys Funkwhale's
source writes (``api/funkwhale_api/subsonic/serializers.py`` and ``views.py``)."""

from __future__ import annotations

import hashlib
import secrets
import xml.etree.ElementTree as ET

import pytest

from fwload.fixtures.audio import render_track
from tests.standin.conftest import PNG, Account, Catalogue, Target, with_cover
from tests.standin.keyshape import assert_like_sample, sample

REST = "/rest/"


@pytest.fixture(scope="module")
def password(target: Target, account: Account, catalogue: Catalogue) -> str:
    """The account's Subsonic password, made with HTTP Basic as in sample 18."""
    made = target.request("POST", f"/api/v1/users/{account.username}/subsonic-token/",
                          auth=(account.username, account.password))
    assert_like_sample(18, made.status_code, made.json())
    return made.json()["subsonic_api_token"]


def clear(account: Account, password: str) -> dict[str, str]:
    return {"u": account.username, "p": password, "v": "1.16.0", "c": "samples", "f": "json"}


def salted(account: Account, password: str) -> dict[str, str]:
    salt = secrets.token_hex(6)
    return {"u": account.username, "t": hashlib.md5((password + salt).encode()).hexdigest(), "s": salt,
            "v": "1.16.1", "c": "tests", "f": "json"}


def rest(target: Target, method: str, params: dict[str, str], **kwargs):
    return target.request("GET", f"{REST}{method}.view", params=params, **kwargs)


def subsonic(answer) -> dict:
    return answer.json()["subsonic-response"]


def test_subsonic_token_needs_a_logged_in_user_and_rotates(target: Target, account: Account, password: str):
    read = target.request("GET", f"/api/v1/users/{account.username}/subsonic-token/", headers=account.bearer)
    assert_like_sample(66, read.status_code, read.json())
    assert read.json()["subsonic_api_token"] == password
    other = target.register("nosub")
    never_made = target.request("GET", f"/api/v1/users/{other.username}/subsonic-token/", headers=other.bearer)
    assert never_made.status_code == 200 and never_made.json() == {"subsonic_api_token": None}
    someone_else = target.request("GET", f"/api/v1/users/{account.username}/subsonic-token/",
                                  headers=other.bearer)
    assert someone_else.status_code == 403 and someone_else.content == b""
    assert target.request("POST", f"/api/v1/users/{other.username}/subsonic-token/").status_code == 401
    read_only = target.request("POST", "/api/v1/oauth/apps/", json={"name": "ro", "scopes": "read"},
                               auth=(other.username, other.password)).json()["token"]
    refused = target.request("POST", f"/api/v1/users/{other.username}/subsonic-token/",
                             headers={"Authorization": f"Bearer {read_only}"})
    assert refused.status_code == 403 and refused.json() == {"detail": "You do not have permission to perform this action."}
    rotated = target.request("POST", f"/api/v1/users/{other.username}/subsonic-token/", headers=other.bearer)
    assert_like_sample(65, rotated.status_code, rotated.json())
    again = target.request("POST", f"/api/v1/users/{other.username}/subsonic-token/", headers=other.bearer)
    assert again.json()["subsonic_api_token"] != rotated.json()["subsonic_api_token"]
    old = rest(target, "ping", clear(other, rotated.json()["subsonic_api_token"]))
    assert subsonic(old)["error"]["code"] == 40, "a new Subsonic password voids the old one"
    cleared = target.request("DELETE", f"/api/v1/users/{other.username}/subsonic-token/", headers=other.bearer)
    assert cleared.status_code == 204
    assert subsonic(rest(target, "ping", clear(other, again.json()["subsonic_api_token"])))["error"]["code"] == 40


def test_ping_needs_no_credentials_and_is_byte_for_byte_the_real_one(target: Target):
    answer = target.request("GET", "/rest/ping.view", params={"f": "json"})
    assert_like_sample(57, answer.status_code, answer.json())
    assert answer.json() == sample(57)["response"]["body"]
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-length"] == sample(57)["response"]["headers"]["Content-Length"]
    for path in ("/rest/ping", "/api/subsonic/rest/ping.view", "/api/subsonic/rest/ping"):
        assert target.request("GET", path, params={"f": "json"}).json() == answer.json(), path
    assert target.request("GET", "/rest/ping/", params={"f": "json"}).status_code == 404
    assert target.request("GET", "/rest/noSuchMethod.view", params={"f": "json"}).status_code == 404


def test_missing_and_wrong_credentials_are_http_200_failures(target: Target, account: Account, password: str):
    nobody = rest(target, "getArtists", {"f": "json"})
    assert_like_sample(58, nobody.status_code, nobody.json())
    assert nobody.json() == sample(58)["response"]["body"]
    assert nobody.headers["content-length"] == sample(58)["response"]["headers"]["Content-Length"]
    wrong = rest(target, "getArtists", clear(account, "not-the-password"))
    assert_like_sample(60, wrong.status_code, wrong.json())
    assert wrong.json() == sample(60)["response"]["body"]
    assert wrong.headers["content-length"] == sample(60)["response"]["headers"]["Content-Length"]
    bad_salt = {**salted(account, password), "s": "another-salt"}
    no_password = {"u": account.username, "f": "json"}
    unknown = clear(Account("nobody_here", "", 0, ""), password)
    bad_hex = {**clear(account, password), "p": "enc:zz"}
    for params in (bad_salt, no_password, unknown, bad_hex):
        assert subsonic(rest(target, "getArtists", params))["error"] == {
            "code": 40, "message": "Wrong username or password."}, params
    wrong_ping = rest(target, "ping", clear(account, "not-the-password"))
    assert subsonic(wrong_ping)["error"]["code"] == 40, "ping without credentials works, with wrong ones it fails"


def test_the_three_password_forms_open_the_same_library(target: Target, account: Account, password: str):
    plain = rest(target, "getArtists", clear(account, password))
    assert_like_sample(59, plain.status_code, plain.json())
    encoded = {**clear(account, password), "p": "enc:" + password.encode().hex()}
    upper = {**clear(account, password), "u": account.username.upper()}
    for params in (encoded, salted(account, password), upper):
        assert subsonic(rest(target, "getArtists", params))["artists"] == subsonic(plain)["artists"], params
    token_form_is_exact = {**salted(account, password), "u": account.username.upper()}
    assert subsonic(rest(target, "getArtists", token_form_is_exact))["error"]["code"] == 40


def test_browsing_artist_album_and_the_system_methods(target: Target, account: Account, password: str,
                                                       catalogue: Catalogue):
    auth = salted(account, password)
    index = subsonic(rest(target, "getArtists", auth))["artists"]["index"]
    artist = next(a for letter in index for a in letter["artist"] if a["name"] == f"Artist {catalogue.word}")
    assert artist["albumCount"] == 1 and artist["coverArt"] == f"ar-{artist['id']}"
    detail = subsonic(rest(target, "getArtist", {**auth, "id": str(artist["id"])}))["artist"]
    assert list(detail) == ["id", "name", "albumCount", "album"]
    assert list(detail["album"][0]) == ["id", "artistId", "name", "artist", "created", "songCount"]
    assert detail["album"][0]["songCount"] == 3
    album = subsonic(rest(target, "getAlbum", {**auth, "id": str(detail["album"][0]["id"])}))["album"]
    assert list(album) == ["id", "artistId", "name", "artist", "created", "duration", "playCount", "genre",
                           "songCount", "song"]
    assert album["songCount"] == 3 and sorted(s["id"] for s in album["song"]) == sorted(catalogue.track_ids)
    assert list(album["song"][0]) == list(sample(61)["response"]["body"]["subsonic-response"]["searchResult3"]
                                          ["song"][0])
    assert album["duration"] == sum(s["duration"] for s in album["song"])
    folders = subsonic(rest(target, "getMusicFolders", auth))
    assert folders["musicFolders"] == {"musicFolder": [{"id": 1, "name": "Music"}]}
    license_ = subsonic(rest(target, "getLicense", {"f": "json"}))["license"]
    assert license_["valid"] == "true" and license_["licenseExpires"].endswith("Z")


def test_search_and_random_songs_are_like_the_real_ones(target: Target, account: Account, password: str,
                                                        catalogue: Catalogue):
    found = rest(target, "search3", {**clear(account, password), "query": catalogue.word})
    assert_like_sample(61, found.status_code, found.json())
    songs = subsonic(found)["searchResult3"]["song"]
    assert [len(s["title"]) for s in songs] == sorted(len(s["title"]) for s in songs), "short titles first"
    assert {s["id"] for s in songs} == set(catalogue.track_ids)
    result = subsonic(found)["searchResult3"]
    assert [a["name"] for a in result["artist"]] == [f"Artist {catalogue.word}"], "artists by name"
    assert [a["name"] for a in result["album"]] == [f"Album {catalogue.word}"], "albums by title"
    assert list(result["album"][0]) == ["id", "artistId", "name", "artist", "created", "duration", "playCount",
                                        "genre", "songCount"]
    capped = subsonic(rest(target, "search3", {**clear(account, password), "query": catalogue.word,
                                               "songCount": "1", "songOffset": "1"}))
    assert [s["id"] for s in capped["searchResult3"]["song"]] == [songs[1]["id"]]
    random_songs = rest(target, "getRandomSongs", {**clear(account, password), "size": "2"})
    assert_like_sample(62, random_songs.status_code, random_songs.json())
    assert len(subsonic(random_songs)["randomSongs"]["song"]) == 2
    stranger = target.register("stranger")
    stranger_password = target.request("POST", f"/api/v1/users/{stranger.username}/subsonic-token/",
                                       headers=stranger.bearer).json()["subsonic_api_token"]
    private = subsonic(rest(target, "search3", {**clear(stranger, stranger_password), "query": catalogue.word}))
    assert private["searchResult3"]["song"] == [], "the catalogue's library is private to its owner"


def test_stream_answers_ranges_like_nginx(target: Target, account: Account, password: str, catalogue: Catalogue):
    found = subsonic(rest(target, "search3", {**clear(account, password), "query": f"{catalogue.word} Morning"}))
    song = found["searchResult3"]["song"][0]
    ranged = rest(target, "stream", {**clear(account, password), "id": str(song["id"])},
                  headers={"Range": "bytes=0-511"})
    expected = sample(63)["response"]
    assert ranged.status_code == expected["status"] and ranged.content == catalogue.audio[:512]
    assert ranged.headers["content-range"] == f"bytes 0-511/{len(catalogue.audio)}"
    assert ranged.headers["content-type"] == expected["headers"]["Content-Type"]
    assert ranged.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    whole = rest(target, "stream", {**salted(account, password), "id": str(song["id"]), "format": "raw"})
    assert whole.status_code == 200 and whole.content == catalogue.audio


def test_missing_bad_and_unknown_ids(target: Target, account: Account, password: str):
    auth = clear(account, password)
    assert subsonic(rest(target, "getAlbum", auth))["error"] == {
        "code": 10, "message": "required parameter 'id' not present"}
    assert subsonic(rest(target, "getAlbum", {**auth, "id": "abc"}))["error"] == {
        "code": 0, "message": 'For input string "abc"'}
    for method, model in (("getAlbum", "Album"), ("getArtist", "Artist"), ("stream", "Track")):
        assert subsonic(rest(target, method, {**auth, "id": "999999"}))["error"] == {
            "code": 70, "message": f"{model} not found"}, method
    assert subsonic(rest(target, "getCoverArt", auth))["error"]["code"] == 10


def test_an_embedded_picture_becomes_the_album_cover(target: Target, account: Account, password: str,
                                                     library: str, catalogue: Catalogue):
    word = secrets.token_hex(3)
    audio = with_cover(render_track("mp3", title=f"Easel {word}", artist=f"Painter {word}", album=f"Canvas {word}",
                                    seconds=1.0, seed=21))
    assert target.upload(account, library, audio, name="covered.mp3", reference=f"cover-{word}").ok
    assert target.wait_import(account, f"cover-{word}").json()["results"][0]["import_status"] == "finished"
    auth = salted(account, password)
    found = subsonic(rest(target, "search3", {**auth, "query": word}))["searchResult3"]
    album, song = found["album"][0], found["song"][0]
    assert album["coverArt"] == song["coverArt"] == f"al-{album['id']}"
    assert list(album) == ["id", "artistId", "name", "artist", "created", "duration", "playCount", "coverArt",
                           "genre", "songCount"]
    artist = subsonic(rest(target, "getArtist", {**auth, "id": str(album["artistId"])}))["artist"]
    assert artist["album"][0]["coverArt"] == album["coverArt"] and "coverArt" not in artist
    picture = rest(target, "getCoverArt", {**auth, "id": album["coverArt"]})
    assert picture.status_code == 200 and picture.content == PNG
    assert picture.headers["content-type"] == "image/png"
    plain = subsonic(rest(target, "search3", {**auth, "query": catalogue.word}))["searchResult3"]
    assert "coverArt" not in plain["album"][0] and "coverArt" not in plain["song"][0]
    assert subsonic(rest(target, "getCoverArt", {**auth, "id": f"al-{plain['album'][0]['id']}"}))["error"] == {
        "code": 70, "message": "cover art not found."}
    for unhandled in (f"ar-{album['artistId']}", "at-8f4b7a4e-0000-4000-8000-000000000000"):
        crashed = rest(target, "getCoverArt", {**auth, "id": unhandled})
        assert crashed.status_code == 500 and "Server Error (500)" in crashed.text, unhandled


def test_scrobble_records_a_listening_only_on_submission(target: Target, account: Account, password: str,
                                                         catalogue: Catalogue):
    def listenings() -> int:
        return target.request("GET", "/api/v1/history/listenings/", headers=account.bearer,
                              params={"scope": "me"}).json()["count"]

    before = listenings()
    now_playing = rest(target, "scrobble", {**clear(account, password), "id": str(catalogue.track_ids[0]),
                                            "submission": "false"})
    assert now_playing.status_code == 200 and now_playing.content == b"{}", "an empty payload is sent bare"
    assert listenings() == before
    played = rest(target, "scrobble", {**clear(account, password), "id": str(catalogue.track_ids[0])})
    assert played.content == b"{}" and listenings() == before + 1
    assert subsonic(rest(target, "scrobble", {**clear(account, password), "id": "999999"}))["error"] == {
        "code": 0, "message": "Invalid payload"}


def test_formats_form_bodies_and_the_off_switch(target: Target, account: Account, password: str):
    as_xml = rest(target, "ping", {**clear(account, password), "f": "xml"})
    assert as_xml.headers["content-type"] == "text/xml"
    root = ET.fromstring(as_xml.content)
    assert root.tag == "{http://subsonic.org/restapi}subsonic-response" and root.get("status") == "ok"
    assert rest(target, "ping", {"f": "yaml"}).status_code == 406
    by_form = target.request("POST", "/rest/getMusicFolders.view", data=clear(account, password))
    assert subsonic(by_form)["status"] == "ok"

    target.set_preference("subsonic__enabled", False)
    try:
        off = rest(target, "ping", {"f": "json"})
        assert off.status_code == 405 and off.json() == {}
        token = target.request("GET", f"/api/v1/users/{account.username}/subsonic-token/", headers=account.bearer)
        assert token.status_code == 405 and token.content == b""
    finally:
        target.set_preference("subsonic__enabled", True)
    assert rest(target, "ping", {"f": "json"}).status_code == 200
