"""A stand-in with a small catalogue every account may play, for runs that need tracks from the start."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import requests as http

from fwload.fixtures.audio import render_track
from fwload.funkwhale import api, paths
from fwload.standin.launcher import StandinProcess
from tests.standin.conftest import with_cover


@contextlib.contextmanager
def catalogue_standin(tracks: int = 4, seconds: float = 2.0) -> Iterator[StandinProcess]:
    """Two artists, two albums (one with a cover embedded in its files), ``tracks`` imported
    tracks of ``seconds`` each in an instance-wide library, uploaded through the real API."""
    with StandinProcess(import_rate=50.0) as process:
        username, password = api.new_username(), api.new_password()
        assert http.post(process.url + paths.REGISTRATION, json=api.registration_body(username, password),
                         timeout=30).status_code == 201
        bearer = {"Authorization": "Bearer " + http.post(process.url + paths.OAUTH_APPS, json=api.app_body(),
                                                          auth=(username, password), timeout=30).json()["token"]}
        library = http.post(process.url + paths.LIBRARIES, headers=bearer, timeout=30,
                            json=api.library_body("catalogue", "instance")).json()["uuid"]
        for n in range(tracks):
            audio = render_track("mp3", title=f"Wombat tune{n}", artist=f"Wombat band{n % 2}",
                                 album=f"Wombat record{n % 2}", seconds=seconds, seed=n + 1)
            audio = with_cover(audio) if n % 2 == 0 else audio
            answer = http.post(process.url + paths.UPLOADS, headers=bearer, timeout=30,
                               data=api.upload_fields(library, "catalogue", f"t{n}.mp3"),
                               files={"audio_file": (f"t{n}.mp3", audio)})
            assert answer.status_code == 201
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page = http.get(process.url + paths.UPLOADS, headers=bearer, timeout=30,
                            params={"import_reference": "catalogue"}).json()
            if {u["import_status"] for u in page["results"]} == {"finished"}:
                break
            time.sleep(0.1)
        yield process
