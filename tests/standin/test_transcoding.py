"""The stand-in transcodes listens with a real ffmpeg, inside the request, as Funkwhale 1.4 does:
another format for real, its CPU on the stand-in's own process tree, a cache for the next
requests (±20 % of the asked bitrate), and the original file when there is no ffmpeg."""

from __future__ import annotations

import io

import mutagen
import psutil
import pytest
import requests

from fwload.fixtures.audio import render_track
from fwload.standin.launcher import StandinProcess
from tests.standin.conftest import Account, Catalogue, Target


def children_cpu_s(pid: int) -> float:
    """CPU seconds of the processes `pid` started and reaped: ffmpeg runs are those."""
    times = psutil.Process(pid).cpu_times()
    return times.children_user + times.children_system


def listen(target: Target, account: Account, url: str, **params: str):
    answer = target.request("GET", url, headers=account.bearer, params=params)
    assert answer.status_code == 200, answer.text[:200]
    return answer


def audio_kind(data: bytes) -> mutagen.FileType:
    found = mutagen.File(io.BytesIO(data))
    assert found is not None, "not an audio file mutagen knows"
    return found


def test_to_ogg_is_really_vorbis_costs_the_standin_cpu_then_comes_from_the_cache(
    target: Target, account: Account, catalogue: Catalogue
):
    before = children_cpu_s(target.process.pid)
    first = listen(target, account, catalogue.listen_url, to="ogg")
    spent = children_cpu_s(target.process.pid) - before
    assert type(audio_kind(first.content)).__name__ == "OggVorbis"
    assert first.headers["content-type"] == "audio/ogg"
    assert first.headers["content-disposition"].endswith(".ogg")
    assert spent > 0, "ffmpeg ran as the stand-in's child"

    before = children_cpu_s(target.process.pid)
    again = listen(target, account, catalogue.listen_url, to="ogg")
    ranged = target.request("GET", catalogue.listen_url, params={"to": "ogg"},
                            headers={**account.bearer, "Range": "bytes=0-1023"})
    assert children_cpu_s(target.process.pid) == before, "the cached version is served, nothing transcoded"
    assert again.content == first.content
    assert ranged.status_code == 206 and ranged.content == first.content[:1024]
    assert ranged.headers["content-range"] == f"bytes 0-1023/{len(first.content)}"


def test_other_formats_are_what_they_say(target: Target, account: Account, catalogue: Catalogue):
    opus = listen(target, account, catalogue.listen_url, to="opus")
    assert type(audio_kind(opus.content)).__name__ == "OggOpus"
    aac = listen(target, account, catalogue.listen_url, to="aac")
    assert type(audio_kind(aac.content)).__name__ == "MP4"
    assert aac.headers["content-disposition"].endswith(".m4a")


def test_a_bitrate_cap_transcodes_and_nearby_caps_reuse_it(target: Target, account: Account,
                                                           catalogue: Catalogue):
    url, pid = catalogue.listen_url, target.process.pid
    assert audio_kind(catalogue.audio).info.bitrate > 100_000
    before = children_cpu_s(pid)
    capped = listen(target, account, url, max_bitrate="64")
    assert children_cpu_s(pid) > before
    assert type(audio_kind(capped.content)).__name__ == "MP3", "a cap alone keeps the format"
    assert round(audio_kind(capped.content).info.bitrate / 1000) == 64
    before = children_cpu_s(pid)
    near = listen(target, account, url, max_bitrate="70")
    assert children_cpu_s(pid) == before and near.content == capped.content, "70 kbps is within 20 % of 64"
    far = listen(target, account, url, max_bitrate="96")
    assert children_cpu_s(pid) > before and round(audio_kind(far.content).info.bitrate / 1000) == 96


def test_nothing_to_transcode_serves_the_original(target: Target, account: Account, catalogue: Catalogue):
    pid = target.process.pid
    before = children_cpu_s(pid)
    same_format = listen(target, account, catalogue.listen_url, to="mp3")
    under_cap = listen(target, account, catalogue.listen_url, max_bitrate="320")
    unknown = listen(target, account, catalogue.listen_url, to="wav")
    assert same_format.content == under_cap.content == unknown.content == catalogue.audio
    assert children_cpu_s(pid) == before


def test_transcoding_off_serves_the_original(target: Target, account: Account, catalogue: Catalogue):
    target.set_preference("music__transcoding_enabled", False)
    try:
        assert listen(target, account, catalogue.listen_url, to="opus", max_bitrate="32").content == catalogue.audio
    finally:
        target.set_preference("music__transcoding_enabled", True)


def test_without_ffmpeg_one_notice_at_start_and_the_original_file(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FWLOAD_STANDIN_FFMPEG", "ffmpeg-that-is-not-installed")
    with StandinProcess(import_rate=50.0) as process, requests.Session() as http:
        target = Target(process, http)
        account = target.register("noff")
        library = target.request("POST", "/api/v1/libraries/", headers=account.bearer,
                                 json={"name": "x", "privacy_level": "me"}).json()["uuid"]
        data = render_track("mp3", title="No ffmpeg", artist="Nobody", seconds=1.0, seed=3)
        target.upload(account, library, data, name="n.mp3", reference="noff")
        url = target.wait_import(account, "noff").json()["results"][0]["track"]["listen_url"]
        answer = listen(target, account, url, to="ogg")
        assert answer.content == data and answer.headers["content-type"] == "audio/mpeg"
        notices = [line for line in process.stderr_tail().splitlines() if "ffmpeg" in line]
    assert len(notices) == 1 and "ffmpeg-that-is-not-installed" in notices[0] and "original file" in notices[0]


def test_subsonic_stream_transcodes_a_bitrate_cap_to_mp3_and_raw_keeps_the_format(
    target: Target, account: Account, catalogue: Catalogue
):
    """``stream``'s own rules (``subsonic/views.py``): ``maxBitRate`` alone means mp3
    (``SUBSONIC_DEFAULT_TRANSCODING_FORMAT``), ``format=raw`` the file's own format."""
    password = target.request("POST", f"/api/v1/users/{account.username}/subsonic-token/",
                              headers=account.bearer).json()["subsonic_api_token"]
    auth = {"u": account.username, "p": password, "f": "json"}
    found = target.request("GET", "/rest/search3.view", params={**auth, "query": f"{catalogue.word} Morning"})
    auth["id"] = str(found.json()["subsonic-response"]["searchResult3"]["song"][0]["id"])
    song = target.request("GET", "/rest/stream.view", params=auth).content
    capped = target.request("GET", "/rest/stream.view", params={**auth, "maxBitRate": "64"}).content
    assert type(audio_kind(capped)).__name__ == "MP3" and round(audio_kind(capped).info.bitrate / 1000) == 64
    raw = target.request("GET", "/rest/stream.view", params={**auth, "format": "raw"})
    assert raw.content == song == catalogue.audio
    raw_capped = target.request("GET", "/rest/stream.view", params={**auth, "format": "raw", "maxBitRate": "64"})
    assert raw_capped.content == capped, "raw keeps the format, not the bitrate: the cached 64 kbps copy"
    ogg = target.request("GET", "/rest/stream.view", params={**auth, "format": "ogg"})
    assert type(audio_kind(ogg.content)).__name__ == "OggVorbis"
