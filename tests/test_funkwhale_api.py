"""`fwload.funkwhale.api` reads real Funkwhale 1.4.0 answers (tests/data/funkwhale-samples)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fwload.funkwhale import api

SAMPLES = Path(__file__).parent / "data" / "funkwhale-samples"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def body(name: str):
    return sample(name)["response"]["body"]


def test_app_token_is_read_from_an_authenticated_app_creation():
    assert api.parse_app_token(body("13-oauth-apps-create-authenticated-201.json"))


def test_anonymous_app_creation_has_no_token():
    with pytest.raises(api.UnexpectedAnswer, match="token"):
        api.parse_app_token(body("14-oauth-apps-create-anonymous-201.json"))


def test_listen_token_comes_from_users_me():
    assert api.parse_listen_token(body("16-users-me-200.json"))


@pytest.mark.parametrize("name, status", [
    ("23-uploads-list-by-import-reference-pending.json", "pending"),
    ("24-uploads-list-by-import-reference-finished.json", "finished"),
    ("27-uploads-list-duplicate-skipped.json", "skipped"),
    ("30-uploads-list-noartist-final.json", "errored"),
    ("32-uploads-list-text-after-15s.json", "pending"),
])
def test_import_state_from_the_upload_list(name, status):
    found, upload = api.parse_import_state(body(name))
    assert found == status
    assert (found in api.FINAL_IMPORT_STATUSES) == (status != "pending")


def test_finished_upload_names_a_playable_track():
    _, upload = api.parse_import_state(body("24-uploads-list-by-import-reference-finished.json"))
    track = api.track_of_upload(upload)
    assert track is not None and track.listen_url.startswith("/api/v1/listen/")
    _, pending = api.parse_import_state(body("23-uploads-list-by-import-reference-pending.json"))
    assert api.track_of_upload(pending) is None


def test_empty_poll_answer_is_unexpected():
    with pytest.raises(api.UnexpectedAnswer):
        api.parse_import_state({"count": 0, "next": None, "previous": None, "results": []})


def test_playable_tracks_and_page_count_from_a_real_track_list():
    page = body("34-tracks-list-playable.json")
    tracks = api.playable_tracks(page)
    assert len(tracks) == len(page["results"]) == 2
    assert all(isinstance(t.id, int) and t.listen_url for t in tracks)
    assert api.page_count(page, 2) == -(-page["count"] // 2)


def test_search_tracks_from_a_real_search():
    tracks = api.search_tracks(body("39-search.json"))
    assert tracks and tracks[0].title


def test_nodeinfo_summary_from_real_nodeinfo():
    summary = api.nodeinfo_summary(body("01-nodeinfo-2.0.json"))
    assert summary["software"] == "funkwhale" and summary["version"].startswith("1.4")
    assert "mp3" in summary["upload_extensions"]


def test_nodeinfo_of_something_else_is_refused():
    with pytest.raises(api.UnexpectedAnswer, match="Funkwhale"):
        api.nodeinfo_summary({"hello": "world"})


def test_rate_limit_summary_when_disabled():
    enabled, scopes = api.rate_limit_summary(body("03-rate-limit-anonymous.json"))
    assert enabled is False and scopes


def test_content_range_total_from_a_real_206():
    headers = sample("50-listen-range-206.json")["response"]["headers"]
    assert api.content_range_total(headers["Content-Range"]) == 81223
    assert api.content_range_total("bytes */81223") == 81223
    assert api.content_range_total(None) is None


def test_throttling_is_a_429_or_the_throttled_login_500():
    assert api.throttle_of(429, {"Retry-After": "12", "X-RateLimit-Scope": "signup"}).retry_after_s == 12
    login = api.throttle_of(500, {"X-RateLimit-Remaining": "0", "Retry-After": "3", "X-RateLimit-Scope": "login"})
    assert login is not None and login.scope == "login"
    assert api.throttle_of(500, {}) is None
    assert api.throttle_of(200, {"Retry-After": "1"}) is None


def test_registration_usernames_follow_the_real_rules():
    import re

    for _ in range(50):
        assert re.fullmatch(r"\w+", api.new_username(), re.ASCII)
    password = api.new_password()
    assert len(password) >= 8 and not password.isdigit()


def test_listen_path_appends_the_token_like_the_web_player():
    assert api.listen_path("/api/v1/listen/abc/", "t0k") == "/api/v1/listen/abc/?token=t0k"
    assert api.listen_path("/api/v1/listen/abc/?upload=u", "t0k") == "/api/v1/listen/abc/?upload=u&token=t0k"
    assert api.listen_path("/api/v1/listen/abc/", None) == "/api/v1/listen/abc/"


def test_listen_urls_carry_the_transcoding_asked_and_names_never_the_token():
    ogg = api.Transcode("ogg", 128)
    assert api.listen_path("/api/v1/listen/u/", "tok", ogg) == "/api/v1/listen/u/?to=ogg&max_bitrate=128&token=tok"
    assert api.listen_path("/api/v1/listen/u/?upload=x", None, api.Transcode(max_bitrate=96)) == \
        "/api/v1/listen/u/?upload=x&max_bitrate=96"
    assert api.listen_path("/api/v1/listen/u/") == "/api/v1/listen/u/"
    assert api.listen_name("/api/v1/listen/[track]/", ogg) == "/api/v1/listen/[track]/?to=ogg&max_bitrate=128"
    assert api.listen_name("/api/v1/listen/[track]/", None) == "/api/v1/listen/[track]/"
    assert (ogg.label, api.Transcode("opus").label, api.Transcode(max_bitrate=64).label) == ("ogg@128", "opus", "@64")
def test_tracks_carry_the_audio_facts_of_the_upload_their_listen_url_serves():
    track = api.playable_tracks(body("34-tracks-list-playable.json"))[0]
    assert (track.duration_s, track.bitrate_bps, track.size) == (5.0, 128000.0, 81223)
    _, upload = api.parse_import_state(body("24-uploads-list-by-import-reference-finished.json"))
    uploaded = api.track_of_upload(upload)
    assert uploaded is not None and (uploaded.duration_s, uploaded.bitrate_bps, uploaded.size) == (5.0, 128000.0, 81223)


def test_a_track_without_uploads_has_no_audio_facts():
    page = body("34-tracks-list-playable.json")
    bare = {**page["results"][0], "uploads": []}
    track = api.playable_tracks({**page, "results": [bare]})[0]
    assert (track.duration_s, track.bitrate_bps, track.size) == (None, None, None)


def test_the_web_player_records_a_listening_half_way_or_after_four_minutes():
    assert api.listening_due_s(5.0) == 2.5
    assert api.listening_due_s(600.0) == 240.0


@pytest.mark.parametrize("headers, size, problem", [
    ({"Content-Type": "audio/mpeg"}, 81223, ""),
    ({"X-Accel-Redirect": "/_protected/media/tracks/x.mp3"}, 0, "nginx is bypassed"),
    ({"Content-Type": "text/html"}, 500, "HTML page"),
    ({"Content-Type": "application/json"}, 60, "API error"),
    ({"Content-Type": "audio/mpeg"}, 0, "empty body"),
])
def test_an_answer_without_audio_says_why(headers, size, problem):
    found = api.audio_problem(headers, size)
    assert (problem in found) if problem else found == ""
