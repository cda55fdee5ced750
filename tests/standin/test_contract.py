"""The stand-in replays the situations of the real Funkwhale 1.4.0 samples: same status
codes, same JSON keys at every level the sample shows, same quirks (over real HTTP)."""

from __future__ import annotations

import re
import secrets

import requests

from fwload.fixtures.audio import render_track
from tests.standin.conftest import Account, Catalogue, Target, assert_corrupt_upload_refused
from tests.standin.keyshape import assert_like_sample, sample

JSON = "application/json"


def test_nodeinfo_is_like_the_real_one_and_sets_the_csrf_cookie(target: Target):
    answer = target.request("GET", "/api/v1/instance/nodeinfo/2.0/")
    assert_like_sample(1, answer.status_code, answer.json())
    assert answer.headers["content-type"] == sample(1)["response"]["headers"]["Content-Type"]
    assert len(answer.cookies["csrftoken"]) == 64
    assert answer.json()["software"]["version"] == "1.4.0"
    assert target.request("GET", "/api/v1/instance/nodeinfo/2.0").status_code == 200


def test_well_known_nodeinfo_links_without_trailing_slash(target: Target):
    answer = target.request("GET", "/.well-known/nodeinfo")
    assert_like_sample(2, answer.status_code, answer.json())
    assert answer.json()["links"][0]["href"] == f"{target.url}/api/v1/instance/nodeinfo/2.0"


def test_rate_limit_reports_throttling_off_for_anonymous_and_token(target: Target, account: Account):
    anonymous = target.request("GET", "/api/v1/rate-limit/")
    assert_like_sample(3, anonymous.status_code, anonymous.json())
    assert anonymous.json()["enabled"] is False and anonymous.json()["ident"]["type"] == "anonymous"
    assert [s["id"] for s in anonymous.json()["scopes"]] == [
        s["id"] for s in sample(3)["response"]["body"]["scopes"]
    ]
    known = target.request("GET", "/api/v1/rate-limit/", headers=account.bearer)
    assert_like_sample(64, known.status_code, known.json())
    assert known.json()["ident"] == {"type": "authenticated", "id": str(account.user_id)}


def test_instance_settings_is_a_plain_list_of_preferences(target: Target):
    answer = target.request("GET", "/api/v1/instance/settings/")
    assert_like_sample(4, answer.status_code, answer.json())
    identifiers = {item["identifier"] for item in answer.json()}
    assert {"users__registration_enabled", "music__transcoding_enabled", "subsonic__enabled"} <= identifiers


def test_admin_closes_and_reopens_registration(target: Target, account: Account):
    forbidden = target.request(
        "POST",
        "/api/v1/instance/admin/settings/bulk/",
        headers=account.bearer,
        json={"users__registration_enabled": False},
    )
    assert forbidden.status_code == 403
    closed = target.request(
        "POST",
        "/api/v1/instance/admin/settings/bulk/",
        auth=target.admin_auth,
        json={"users__registration_enabled": False},
    )
    assert closed.status_code == 200 and closed.json()[0]["value"] is False
    refused = target.request(
        "POST",
        "/api/v1/auth/registration/",
        json={
            "username": "closedx",
            "email": "c@example.org",
            "password1": "pw-q8w7e6r5",
            "password2": "pw-q8w7e6r5",
        },
    )
    assert_like_sample(7, refused.status_code, refused.json())
    assert refused.json() == {"detail": "Registration has been disabled"}
    assert target.request("GET", "/api/v1/instance/nodeinfo/2.0/").json()["openRegistrations"] is False
    reopened = target.request(
        "POST",
        "/api/v1/instance/admin/settings/bulk/",
        auth=target.admin_auth,
        json={"users__registration_enabled": True},
    )
    assert_like_sample(5, reopened.status_code, reopened.json())
    assert (
        reopened.json()[0]["identifier"] == "users__registration_enabled"
        and reopened.json()[0]["value"] is True
    )


def test_registration_answers_a_key_and_logs_the_user_in(target: Target):
    username = f"reg{secrets.token_hex(4)}"
    answer = target.request(
        "POST",
        "/api/v1/auth/registration/",
        json={
            "username": username,
            "email": f"{username}@example.org",
            "password1": "pw-z9x8c7v6",
            "password2": "pw-z9x8c7v6",
        },
    )
    assert_like_sample(6, answer.status_code, answer.json())
    assert re.fullmatch(r"[0-9a-f]{40}", answer.json()["key"])
    assert {"csrftoken", "sessionid"} <= set(answer.cookies.keys())


def test_registration_errors_have_drf_shapes(target: Target):
    mismatch = target.request(
        "POST",
        "/api/v1/auth/registration/",
        json={
            "username": "mismatch1",
            "email": "m@example.org",
            "password1": "pw-a1s2d3f4",
            "password2": "pw-other99",
        },
    )
    assert_like_sample(8, mismatch.status_code, mismatch.json())
    assert mismatch.json() == sample(8)["response"]["body"]
    bad = target.request(
        "POST",
        "/api/v1/auth/registration/",
        json={
            "username": "bad user!",
            "email": "not-an-email",
            "password1": "pw-a1s2d3f4",
            "password2": "pw-a1s2d3f4",
        },
    )
    assert_like_sample(9, bad.status_code, bad.json())
    assert bad.json() == sample(9)["response"]["body"]
    reserved = target.request(
        "POST",
        "/api/v1/auth/registration/",
        json={"username": "admin", "email": "x@example.org", "password1": "1234", "password2": "1234"},
    )
    assert reserved.status_code == 400
    assert set(reserved.json()) == {"username", "password1"}
    assert (
        "too short" in reserved.json()["password1"][0]
        and "entirely numeric" in reserved.json()["password1"][-1]
    )


def test_session_login_needs_csrf_and_rotates_the_token(target: Target):
    user = target.register("sess")
    with requests.Session() as browser:
        no_csrf = browser.post(
            f"{target.url}/api/v1/users/login", data={"username": user.username, "password": user.password}
        )
        assert no_csrf.status_code == sample(10)["response"]["status"]
        assert no_csrf.headers["content-type"].startswith("text/html")
        browser.get(f"{target.url}/api/v1/instance/nodeinfo/2.0/")
        first_csrf = browser.cookies["csrftoken"]
        wrong = browser.post(
            f"{target.url}/api/v1/users/login",
            data={"username": user.username, "password": "nope-nope"},
            headers={"X-CSRFToken": first_csrf},
        )
        assert_like_sample(12, wrong.status_code, wrong.json())
        login = browser.post(
            f"{target.url}/api/v1/users/login",
            data={"username": user.username, "password": user.password},
            headers={"X-CSRFToken": first_csrf},
        )
        assert login.status_code == sample(11)["response"]["status"] and login.content == b""
        assert {"csrftoken", "sessionid"} <= set(login.cookies.keys())
        assert browser.cookies["csrftoken"] != first_csrf
        assert browser.get(f"{target.url}/api/v1/users/me/").json()["username"] == user.username
        unsafe = browser.post(f"{target.url}/api/v1/libraries/", json={"name": "x"})
        assert unsafe.status_code == 403 and unsafe.json()["detail"].startswith("CSRF Failed")
        safe = browser.post(
            f"{target.url}/api/v1/libraries/",
            json={"name": "x"},
            headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        )
        assert safe.status_code == 201
        logout = browser.post(
            f"{target.url}/api/v1/users/logout", headers={"X-CSRFToken": browser.cookies["csrftoken"]}
        )
        assert logout.status_code == 200
        assert browser.get(f"{target.url}/api/v1/users/me/").status_code == 401


def test_oauth_apps_token_and_no_jwt(target: Target):
    user = target.register("oauth")
    authenticated = target.request(
        "POST",
        "/api/v1/oauth/apps/",
        auth=(user.username, user.password),
        json={"name": "a", "scopes": "read write", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
    )
    assert_like_sample(13, authenticated.status_code, authenticated.json())
    assert re.fullmatch(r"[a-z]+(-[a-z]+){4}", authenticated.json()["token"])
    assert re.fullmatch(r"[0-9a-f]{128}", authenticated.json()["client_secret"])
    anonymous = target.request(
        "POST",
        "/api/v1/oauth/apps/",
        json={"name": "b", "scopes": "read", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
    )
    assert_like_sample(14, anonymous.status_code, anonymous.json())
    grant = target.request(
        "POST",
        "/api/v1/oauth/token/",
        data={
            "grant_type": "password",
            "username": user.username,
            "password": user.password,
            "client_id": authenticated.json()["client_id"],
            "client_secret": authenticated.json()["client_secret"],
        },
    )
    assert_like_sample(15, grant.status_code, grant.json())
    assert grant.json() == {"error": "unauthorized_client"}
    assert (
        target.request("POST", "/api/v1/token/", data={"username": "x", "password": "y"}).status_code == 404
    )


def test_users_me_and_the_401_without_credentials(target: Target, account: Account):
    me = target.request("GET", "/api/v1/users/me/", headers=account.bearer)
    assert_like_sample(16, me.status_code, me.json())
    assert isinstance(me.json()["tokens"]["listen"], str) and me.json()["quota_status"]["max"] == 1000
    anonymous = target.request("GET", "/api/v1/users/me/")
    assert_like_sample(17, anonymous.status_code, anonymous.json())
    assert anonymous.json() == sample(17)["response"]["body"]
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="api"'
    assert target.request("GET", "/api/v1/tracks/").status_code == 401
    wrong = target.request("GET", "/api/v1/users/me/", auth=(account.username, "wrong-password"))
    assert wrong.status_code == 401 and wrong.json() == {"detail": "Invalid username/password."}


def test_libraries_create_and_list_own(target: Target, account: Account, library: str):
    created = target.request(
        "POST",
        "/api/v1/libraries/",
        headers=account.bearer,
        json={"name": "second", "privacy_level": "me", "description": "sample capture library"},
    )
    assert_like_sample(19, created.status_code, created.json())
    mine = target.request("GET", "/api/v1/libraries/", headers=account.bearer, params={"scope": "me"})
    assert_like_sample(20, mine.status_code, mine.json())
    assert {library, created.json()["uuid"]} <= {item["uuid"] for item in mine.json()["results"]}


def test_upload_lifecycle_finished_duplicate_errored_and_stuck(
    target: Target, account: Account, library: str
):
    word = secrets.token_hex(3)
    tagged = render_track(
        "mp3", title=f"Tune {word}", artist=f"Artist {word}", album=f"Album {word}", seconds=2.0, seed=7
    )
    created = target.upload(account, library, tagged, name="tagged.mp3", reference=f"{word}-1")
    assert_like_sample(21, created.status_code, created.json())
    assert "filename" not in created.json() and created.json()["size"] == len(tagged)
    assert created.json()["mimetype"] == "audio/mpeg" and created.json()["duration"] == 2
    uuid = created.json()["uuid"]
    finished = target.wait_import(account, f"{word}-1")
    assert_like_sample(24, finished.status_code, finished.json())
    assert finished.json()["results"][0]["import_status"] == "finished"
    assert finished.json()["results"][0]["filename"] == f"Artist {word} - Album {word} - Tune {word}.mp3"
    detail = target.request("GET", f"/api/v1/uploads/{uuid}/", headers=account.bearer)
    assert_like_sample(25, detail.status_code, detail.json())

    again = target.upload(account, library, tagged, name="tagged.mp3", reference=f"{word}-dup")
    assert_like_sample(26, again.status_code, again.json())
    skipped = target.wait_import(account, f"{word}-dup")
    assert_like_sample(27, skipped.status_code, skipped.json())
    assert skipped.json()["results"][0]["import_details"] == {
        "code": "already_imported_in_owned_libraries",
        "duplicates": uuid,
    }
    skipped_detail = target.request("GET", f"/api/v1/uploads/{again.json()['uuid']}/", headers=account.bearer)
    assert_like_sample(28, skipped_detail.status_code, skipped_detail.json())

    text = target.upload(
        account, library, b"this is not audio, just text\n", name="notaudio.txt", reference=f"{word}-text"
    )
    assert_like_sample(31, text.status_code, text.json())
    assert text.json()["mimetype"] == "text/plain" and text.json()["duration"] is None

    untagged = render_track("mp3", seconds=1.0, seed=5)
    assert target.upload(account, library, untagged, name="untagged.mp3", reference=f"{word}-untagged").ok

    no_artist = render_track("mp3", title=f"Lonely {word}", seconds=1.0, seed=8)
    accepted = target.upload(account, library, no_artist, name="noartist.mp3", reference=f"{word}-noartist")
    assert_like_sample(29, accepted.status_code, accepted.json())
    errored = target.wait_import(account, f"{word}-noartist")
    assert_like_sample(30, errored.status_code, errored.json())
    details = errored.json()["results"][0]["import_details"]
    assert details["error_code"] == "invalid_metadata" and details["file_metadata"] == {
        "title": f"Lonely {word}"
    }
    assert (
        target.request(
            "GET", f"/api/v1/uploads/{accepted.json()['uuid']}/", headers=account.bearer
        ).status_code
        == 404
    )

    # The queue is first in, first out: the text file was tried before the no-artist file ended.
    stuck = target.uploads_by_reference(account, f"{word}-text")
    assert_like_sample(23, stuck.status_code, stuck.json())
    assert_like_sample(32, stuck.status_code, stuck.json())
    assert stuck.json()["results"][0]["import_status"] == "pending"
    untagged_status = target.uploads_by_reference(account, f"{word}-untagged").json()["results"][0][
        "import_status"
    ]
    assert untagged_status == "pending"
    stuck_detail = target.request("GET", f"/api/v1/uploads/{text.json()['uuid']}/", headers=account.bearer)
    assert_like_sample(22, stuck_detail.status_code, stuck_detail.json())

    missing = target.request(
        "POST",
        "/api/v1/uploads/",
        headers=account.bearer,
        data={"import_reference": "x", "source": "upload://x.mp3"},
        files={"audio_file": ("x.mp3", tagged)},
    )
    assert_like_sample(33, missing.status_code, missing.json())
    assert missing.json() == sample(33)["response"]["body"]


def test_a_corrupt_mp3_upload_answers_500_and_stores_nothing(target: Target, account: Account, library: str):
    assert_corrupt_upload_refused(target, account, library)
    text = target.upload(account, library, b"plain text\n", name="notes.txt", reference="text-after-corrupt")
    assert text.status_code == 201 and text.json()["import_status"] == "pending"


def test_import_metadata_title_overrides_the_file_and_is_required(
    target: Target, account: Account, library: str
):
    word = secrets.token_hex(3)
    data = render_track("ogg", title="File title", artist=f"Meta {word}", seconds=1.0, seed=9)
    assert (
        target.upload(
            account,
            library,
            data,
            name="m.ogg",
            reference=f"{word}-meta",
            metadata='{"title": "Forced title"}',
        ).status_code
        == 201
    )
    result = target.wait_import(account, f"{word}-meta").json()["results"][0]
    assert result["import_status"] == "finished" and result["track"]["title"] == "Forced title"
    assert result["track"]["album"]["title"] == "[Unknown Album]"
    refused = target.upload(
        account, library, data, name="m.ogg", reference=f"{word}-x", metadata='{"position": 2}'
    )
    assert refused.status_code == 400
    assert refused.json() == {"import_metadata": {"title": ["This field is required."]}}


def test_upload_quota_reached(target: Target, account: Account, library: str):
    def set_quota(megabytes: int) -> None:
        answer = target.request(
            "POST",
            "/api/v1/instance/admin/settings/bulk/",
            auth=target.admin_auth,
            json={"users__upload_quota": megabytes},
        )
        assert answer.status_code == 200

    set_quota(0)
    try:
        refused = target.upload(account, library, b"x" * 2048, name="q.mp3", reference="quota")
    finally:
        set_quota(1000)
    assert refused.status_code == 400 and refused.json() == {"non_field_errors": ["upload_quota_reached"]}


def test_browsing_tracks_albums_artists(target: Target, account: Account, catalogue: Catalogue):
    page = target.request(
        "GET", "/api/v1/tracks/", headers=account.bearer, params={"playable": "true", "page_size": 2}
    )
    assert_like_sample(34, page.status_code, page.json())
    assert page.json()["next"] == f"{target.url}/api/v1/tracks/?page=2&page_size=2&playable=true"
    second = target.request(
        "GET",
        "/api/v1/tracks/",
        headers=account.bearer,
        params={"playable": "true", "page_size": 2, "page": 2},
    )
    assert second.json()["previous"] == f"{target.url}/api/v1/tracks/?page_size=2&playable=true"
    track = target.request("GET", f"/api/v1/tracks/{catalogue.track_ids[0]}/", headers=account.bearer)
    assert_like_sample(35, track.status_code, track.json())
    assert "uuid" not in track.json() and track.json()["listen_url"].startswith("/api/v1/listen/")
    albums = target.request(
        "GET", "/api/v1/albums/", headers=account.bearer, params={"playable": "true", "page_size": 2}
    )
    assert_like_sample(36, albums.status_code, albums.json())
    artists = target.request(
        "GET", "/api/v1/artists/", headers=account.bearer, params={"playable": "true", "page_size": 2}
    )
    assert_like_sample(37, artists.status_code, artists.json())
    beyond = target.request("GET", "/api/v1/tracks/", headers=account.bearer, params={"page": 9999})
    assert_like_sample(38, beyond.status_code, beyond.json())
    assert beyond.json() == {"detail": "Invalid page."}
    capped = target.request("GET", "/api/v1/tracks/", headers=account.bearer, params={"page_size": 500})
    assert capped.status_code == 200 and len(capped.json()["results"]) <= 50
    by_album = target.request(
        "GET",
        "/api/v1/tracks/",
        headers=account.bearer,
        params={"album": track.json()["album"]["id"], "ordering": "-creation_date"},
    )
    assert sorted(t["id"] for t in by_album.json()["results"]) == sorted(catalogue.track_ids)


def test_other_users_cannot_play_a_private_library(target: Target, catalogue: Catalogue):
    stranger = target.register("bob")
    answer = target.request("GET", "/api/v1/tracks/", headers=stranger.bearer, params={"q": catalogue.word})
    assert answer.json()["count"] == 3
    assert all(item["uploads"] == [] and item["is_playable"] is False for item in answer.json()["results"])
    playable = target.request(
        "GET", "/api/v1/tracks/", headers=stranger.bearer, params={"q": catalogue.word, "playable": "true"}
    )
    assert playable.json()["count"] == 0
    assert target.request("GET", catalogue.listen_url, headers=stranger.bearer).status_code == 404


def test_search_and_its_empty_query(target: Target, account: Account, catalogue: Catalogue):
    found = target.request("GET", "/api/v1/search", headers=account.bearer, params={"q": catalogue.word})
    assert_like_sample(39, found.status_code, found.json())
    assert len(found.json()["tracks"]) == 3
    assert all(t["uploads"] == [] and t["is_playable"] is False for t in found.json()["tracks"])
    empty = target.request("GET", "/api/v1/search", headers=account.bearer, params={"q": ""})
    assert_like_sample(40, empty.status_code, empty.json())
    assert empty.json() == {"detail": "empty query"}
    assert (
        target.request("GET", "/api/v1/search/", headers=account.bearer, params={"q": "x"}).status_code == 404
    )


def test_favorites_add_list_remove(target: Target, account: Account, catalogue: Catalogue):
    track_id = catalogue.track_ids[0]
    added = target.request(
        "POST", "/api/v1/favorites/tracks/", headers=account.bearer, json={"track": track_id}
    )
    assert_like_sample(41, added.status_code, added.json())
    again = target.request(
        "POST", "/api/v1/favorites/tracks/", headers=account.bearer, json={"track": track_id}
    )
    assert again.status_code == 201 and again.json()["id"] == added.json()["id"]
    listed = target.request("GET", "/api/v1/favorites/tracks/all/", headers=account.bearer)
    assert_like_sample(42, listed.status_code, listed.json())
    assert listed.json()["results"] == [{"id": added.json()["id"], "track": track_id}]
    removed = target.request(
        "POST", "/api/v1/favorites/tracks/remove/", headers=account.bearer, json={"track": track_id}
    )
    assert removed.status_code == sample(43)["response"]["status"] and removed.content == b""
    assert removed.headers["content-type"] == JSON
    twice = target.request(
        "POST", "/api/v1/favorites/tracks/remove/", headers=account.bearer, json={"track": track_id}
    )
    assert twice.status_code == 400


def test_playlists_create_add_read_and_cap(target: Target, account: Account, catalogue: Catalogue):
    created = target.request(
        "POST", "/api/v1/playlists/", headers=account.bearer, json={"name": "mix", "privacy_level": "me"}
    )
    assert_like_sample(44, created.status_code, created.json())
    playlist = created.json()["id"]
    added = target.request(
        "POST",
        f"/api/v1/playlists/{playlist}/add/",
        headers=account.bearer,
        json={"tracks": catalogue.track_ids[:1], "allow_duplicates": True},
    )
    assert_like_sample(45, added.status_code, added.json())
    listed = target.request("GET", f"/api/v1/playlists/{playlist}/tracks/", headers=account.bearer)
    assert_like_sample(46, listed.status_code, listed.json())
    too_many = target.request(
        "POST",
        f"/api/v1/playlists/{playlist}/add/",
        headers=account.bearer,
        json={"tracks": catalogue.track_ids[:1] * 250, "allow_duplicates": True},
    )
    assert too_many.status_code == 400
    assert too_many.json() == {"playlist": ["Playlist would reach the maximum of 250 tracks"]}


def test_listening_history(target: Target, account: Account, catalogue: Catalogue):
    created = target.request(
        "POST", "/api/v1/history/listenings/", headers=account.bearer, json={"track": catalogue.track_ids[0]}
    )
    assert_like_sample(47, created.status_code, created.json())
    assert created.json()["user"] == account.user_id
    mine = target.request(
        "GET", "/api/v1/history/listenings/", headers=account.bearer, params={"scope": "me", "page_size": 1}
    )
    assert_like_sample(48, mine.status_code, mine.json())


def test_listen_full_range_416_head_and_download_false(
    target: Target, account: Account, catalogue: Catalogue
):
    size = len(catalogue.audio)
    full = target.request("GET", catalogue.listen_url, headers=account.bearer)
    assert full.status_code == 200 and full.content == catalogue.audio
    assert full.headers["content-length"] == str(size) and full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-type"] == "audio/mpeg" and "last-modified" in full.headers
    assert full.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''"
        + f"Artist {catalogue.word} - Album {catalogue.word} - {catalogue.word} Morning.mp3".replace(
            " ", "%20"
        )
    )
    ranged = target.request("GET", catalogue.listen_url, headers={**account.bearer, "Range": "bytes=0-1023"})
    assert ranged.status_code == 206 and ranged.content == catalogue.audio[:1024]
    assert ranged.headers["content-range"] == f"bytes 0-1023/{size}"
    tail = target.request("GET", catalogue.listen_url, headers={**account.bearer, "Range": "bytes=1000-"})
    assert tail.status_code == 206 and tail.content == catalogue.audio[1000:]
    unsatisfiable = target.request(
        "GET", catalogue.listen_url, headers={**account.bearer, "Range": "bytes=999999999-"}
    )
    assert unsatisfiable.status_code == 416 and unsatisfiable.headers["content-range"] == f"bytes */{size}"
    head = target.request("HEAD", catalogue.listen_url, headers=account.bearer)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(size)
    inline = target.request("GET", catalogue.listen_url, headers=account.bearer, params={"download": "false"})
    assert inline.status_code == 200 and "content-disposition" not in inline.headers


def test_listen_refusals_are_json_served_as_audio(target: Target, account: Account, catalogue: Catalogue):
    anonymous = target.request("GET", catalogue.listen_url)
    assert_like_sample(52, anonymous.status_code, anonymous.json())
    assert anonymous.headers["content-type"] == "audio/*"
    json_only = target.request("GET", catalogue.listen_url, headers={**account.bearer, "Accept": JSON})
    assert_like_sample(53, json_only.status_code, json_only.json())
    assert json_only.headers["content-type"] == "audio/*"
    bogus = target.request(
        "GET", "/api/v1/listen/b59b1558-636c-4caf-8acd-204f7f775d6e/", headers=account.bearer
    )
    assert_like_sample(56, bogus.status_code, bogus.json())
    assert bogus.headers["content-type"] == "audio/*"


def test_listen_with_the_listen_token_and_no_header(target: Target, account: Account, catalogue: Catalogue):
    token = target.request("GET", "/api/v1/users/me/", headers=account.bearer).json()["tokens"]["listen"]
    ranged = target.request(
        "GET", catalogue.listen_url, params={"token": token}, headers={"Range": "bytes=0-1023"}
    )
    assert ranged.status_code == sample(54)["response"]["status"] and len(ranged.content) == 1024
    forged = target.request("GET", catalogue.listen_url, params={"token": token[:-2] + "xx"})
    assert forged.status_code == 401 and forged.json() == {"detail": "Invalid token"}
    app_token_in_query = target.request("GET", catalogue.listen_url, params={"token": account.token})
    assert app_token_in_query.status_code == 401
