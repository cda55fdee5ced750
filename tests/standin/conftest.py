"""One stand-in subprocess per test module, a registered user with an app token, and a
small catalogue of finished tracks (3 tracks, one artist, one album, as in the samples)."""

from __future__ import annotations

import base64
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import pytest
import requests
from mutagen.id3 import APIC, ID3

from fwload.fixtures.audio import render_track
from fwload.standin.launcher import StandinProcess

IMPORT_WAIT_S = 20.0
HTTP_TIMEOUT_S = 10.0
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
"""A 1x1 PNG: the cover embedded in test tracks."""


def with_cover(mp3: bytes, picture: bytes = PNG) -> bytes:
    """The MP3 with `picture` embedded as its front cover (ID3 APIC), as tagged music carries it."""
    with tempfile.NamedTemporaryFile(suffix=".mp3") as file:
        file.write(mp3)
        file.flush()
        tags = ID3(file.name)
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="cover", data=picture))
        tags.save(file.name)
        return Path(file.name).read_bytes()


@dataclass
class Account:
    username: str
    password: str
    user_id: int
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Target:
    """The running stand-in: its URL, the admin's credential, HTTP helpers."""

    process: StandinProcess
    http: requests.Session

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def admin_auth(self) -> tuple[str, str]:
        assert self.process.admin is not None
        return self.process.admin.username, self.process.admin.password.get_secret_value()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", HTTP_TIMEOUT_S)
        return self.http.request(method, self.url + path, **kwargs)

    def set_preference(self, identifier: str, value: object) -> None:
        """An instance preference, set by the admin as in sample 05."""
        answer = self.request("POST", "/api/v1/instance/admin/settings/bulk/", auth=self.admin_auth,
                              json={identifier: value})
        assert answer.status_code == 200, answer.text

    def register(self, prefix: str = "u") -> Account:
        """A fresh account through open registration, then its app token (Basic auth)."""
        username = f"{prefix}{secrets.token_hex(5)}"
        password = f"pw-{secrets.token_hex(8)}"
        answer = self.request(
            "POST",
            "/api/v1/auth/registration/",
            json={
                "username": username,
                "email": f"{username}@example.org",
                "password1": password,
                "password2": password,
            },
        )
        assert answer.status_code == 201, answer.text
        app = self.request(
            "POST",
            "/api/v1/oauth/apps/",
            json={"name": "tests", "scopes": "read write"},
            auth=(username, password),
        )
        assert app.status_code == 201, app.text
        me = self.request(
            "GET", "/api/v1/users/me/", headers={"Authorization": f"Bearer {app.json()['token']}"}
        )
        return Account(username, password, me.json()["id"], app.json()["token"])

    def upload(
        self,
        account: Account,
        library: str,
        data: bytes,
        *,
        name: str,
        reference: str,
        metadata: str | None = None,
    ) -> requests.Response:
        fields = {"library": library, "import_reference": reference, "source": f"upload://{name}"}
        if metadata is not None:
            fields["import_metadata"] = metadata
        return self.request(
            "POST",
            "/api/v1/uploads/",
            headers=account.bearer,
            data=fields,
            files={"audio_file": (name, data)},
        )

    def uploads_by_reference(self, account: Account, reference: str) -> requests.Response:
        return self.request(
            "GET", "/api/v1/uploads/", headers=account.bearer, params={"import_reference": reference}
        )

    def wait_import(self, account: Account, reference: str) -> requests.Response:
        """Poll the list (the detail is 404 while pending) until the import leaves 'pending'."""
        deadline = time.monotonic() + IMPORT_WAIT_S
        while True:
            answer = self.uploads_by_reference(account, reference)
            statuses = {item["import_status"] for item in answer.json()["results"]}
            if statuses and "pending" not in statuses or time.monotonic() > deadline:
                return answer
            time.sleep(0.05)


def seed_playable_track(target: Target, account: Account, word: str) -> None:
    """One finished track in an instance-wide library of ``account``, titled ``word``."""
    library = target.request("POST", "/api/v1/libraries/", headers=account.bearer,
                             json={"name": word, "privacy_level": "instance"}).json()["uuid"]
    audio = render_track("mp3", title=word, artist=f"{word} Band", seconds=1.0, seed=len(word))
    assert target.upload(account, library, audio, name=f"{word}.mp3", reference=word).status_code == 201
    assert target.wait_import(account, word).json()["results"][0]["import_status"] == "finished"


def assert_corrupt_upload_refused(target: Target, account: Account, library: str) -> None:
    """Real 1.4 answers a corrupt mp3's upload with Django's HTML 500 (mutagen's
    HeaderNotFoundError escapes the upload serializer) and stores nothing: no upload in the
    list, no quota spent."""
    from fwload.fixtures.catalogue import CORRUPT_SIZE
    from fwload.fixtures.corrupt import corrupt_bytes

    reference = f"corrupt-{secrets.token_hex(3)}"
    used = target.request("GET", "/api/v1/users/me/", headers=account.bearer).json()["quota_status"]["current"]
    answer = target.upload(account, library, corrupt_bytes(1, CORRUPT_SIZE), name="13-corrupt.mp3",
                           reference=reference)
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Server Error (500)</h1>" in answer.text
    assert target.uploads_by_reference(account, reference).json()["count"] == 0
    after = target.request("GET", "/api/v1/users/me/", headers=account.bearer).json()["quota_status"]["current"]
    assert after == used


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with StandinProcess(import_rate=50.0, ready_timeout_s=30.0) as process, requests.Session() as http:
        http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # stateless: no session sneaks in
        yield Target(process, http)


@pytest.fixture(scope="module")
def account(target: Target) -> Account:
    return target.register("alice")


@pytest.fixture(scope="module")
def library(target: Target, account: Account) -> str:
    answer = target.request(
        "POST", "/api/v1/libraries/", headers=account.bearer, json={"name": "tests", "privacy_level": "me"}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["uuid"]


@dataclass
class Catalogue:
    word: str
    track_ids: list[int]
    listen_url: str
    audio: bytes


@pytest.fixture(scope="module")
def catalogue(target: Target, account: Account, library: str) -> Catalogue:
    """Three finished tracks whose titles share a word no other track has."""
    word = f"Quokka{secrets.token_hex(3)}"
    reference = f"catalogue-{word}"
    tracks = {}
    for seed, part in enumerate(("Morning", "Noon", "Night"), start=1):
        data = render_track(
            "mp3",
            title=f"{word} {part}",
            artist=f"Artist {word}",
            album=f"Album {word}",
            seconds=2.0,
            seed=seed,
        )
        tracks[part] = data
        assert (
            target.upload(account, library, data, name=f"{part}.mp3", reference=reference).status_code == 201
        )
    final = target.wait_import(account, reference).json()["results"]
    assert {item["import_status"] for item in final} == {"finished"}, final
    by_title = {item["track"]["title"]: item["track"] for item in final}
    first = by_title[f"{word} Morning"]
    return Catalogue(word, [item["track"]["id"] for item in final], first["listen_url"], tracks["Morning"])
