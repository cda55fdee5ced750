"""A person adding tracks to their library and playing them once imported."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any, ClassVar

import gevent
from locust import task

from fwload.funkwhale import api, paths
from fwload.recording import measurements
from fwload.users.base import FunkwhaleUser
from fwload.users.options import UploaderOptions
from fwload.users.shelf import FixtureShelf, Upload

MAX_FAILED_POLLS = 3
REFUSABLE_KINDS = frozenset({"corrupt"})
"""Fixture kinds that are not audio at all: real 1.4 may refuse their upload outright
(`api.UNPARSABLE_UPLOAD_STATUSES`). Any other file refused that way is a server error."""


class Uploader(FunkwhaleUser):
    """Creates its library once, uploads unique tracks, waits for each import by polling the
    upload list (a pending upload's detail is 404 on real 1.4) with a deadline, then plays
    what it uploaded as the web player does (a listening recorded half way, real time).

    Every valid upload gets tags no other upload has (same user + same track is ``skipped``
    by the server); a share of uploads (``bad_files``) uses a deliberately bad fixture, whose
    outcome is recorded as such rather than as a failed request: the corrupt file's upload
    answered HTTP 500 (real 1.4) is the import outcome ``rejected`` and the request's error
    kind ``rejected``, both expected.
    """

    weight = 1
    options: ClassVar[UploaderOptions] = UploaderOptions()
    shelf: ClassVar[FixtureShelf | None] = None

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.library: str | None = None
        self.last_upload: Upload | None = None
        self.waiting: tuple[float, float, str, Upload] | None = None

    @classmethod
    def prepare(cls, fixtures_dir: str) -> None:
        """Load (or generate) the fixtures before the load starts: encoding audio is CPU work
        that would stall every virtual user of the process if done during the test."""
        if cls.shelf is None or cls.shelf.folder != fixtures_dir:
            cls.shelf = FixtureShelf.load(fixtures_dir)

    def on_start(self) -> None:
        if Uploader.shelf is None:
            Uploader.prepare("fixtures/audio")
        super().on_start()

    @task
    def upload_and_play(self) -> None:
        if self.library is None and not self.create_library():
            return
        upload = self.next_upload()
        accepted_at, upload_uuid, reference = self.send(upload)
        if accepted_at is None:
            return
        self.waiting = (accepted_at, time.perf_counter(), upload_uuid, upload)
        outcome, track, polls, waited_ms = self.wait_for_import(reference)
        self.waiting = None
        measurements.import_done.fire(
            ts=accepted_at, upload=upload_uuid, outcome=outcome, wait_ms=waited_ms, polls=polls,
            fixture=upload.kind, format=upload.format, bytes=len(upload.data), user_class=type(self).__name__,
        )
        if outcome == "finished" and upload.kind == "valid":
            self.last_upload = upload
        if track is not None and self.options.stream_after_import:
            realtime = self.options.playback == "realtime"
            self.play(track, on_listened=(lambda: self.record_listening(track)) if realtime else None)

    def on_stop(self) -> None:
        """The run ended while this user waited for an import: record it as unfinished."""
        super().on_stop()
        if self.waiting is not None:
            accepted_at, started, upload_uuid, upload = self.waiting
            self.waiting = None
            measurements.import_done.fire(
                ts=accepted_at, upload=upload_uuid, outcome="unfinished",
                wait_ms=(time.perf_counter() - started) * 1000, polls="", fixture=upload.kind,
                format=upload.format, bytes=len(upload.data), user_class=type(self).__name__,
            )

    def create_library(self) -> bool:
        name = f"fwload {uuid.uuid4().hex[:8]}"
        reply = self.call("POST", paths.LIBRARIES, group="library", expect=(201,),
                          json=api.library_body(name, self.options.library_privacy),
                          parse=lambda body: str(body["uuid"]))
        if reply.ok:
            self.library = reply.body
        return reply.ok

    def next_upload(self) -> Upload:
        shelf = self.shelf
        assert shelf is not None
        if random.random() < self.options.bad_files:
            kind = random.choice(shelf.bad_kinds())
            if kind == "duplicate":
                if self.last_upload is not None:
                    return self.last_upload.as_duplicate()
            else:
                return shelf.bad(kind)
        return shelf.unique(random.choice(self.options.formats))

    def send(self, upload: Upload) -> tuple[float | None, str, str]:
        """POST the file; returns (accepted at, upload uuid, import reference)."""
        reference = f"fwload-{uuid.uuid4().hex}"
        files = {"audio_file": (upload.filename, upload.data, upload.mimetype)}
        refusals = api.UNPARSABLE_UPLOAD_STATUSES if upload.kind in REFUSABLE_KINDS else ()
        reply = self.call("POST", paths.UPLOADS, group="upload", expect=(201,),
                          data=api.upload_fields(self.library or "", reference, upload.filename), files=files,
                          parse=lambda body: str(body["uuid"]), refusals=refusals)
        if not reply.ok:
            measurements.import_done.fire(
                ts=time.time(), upload="", outcome="rejected" if reply.refused else "failed", wait_ms="",
                polls=0, fixture=upload.kind, format=upload.format, bytes=len(upload.data),
                user_class=type(self).__name__,
            )
            return None, "", reference
        return time.time(), reply.body, reference

    def wait_for_import(self, reference: str) -> tuple[str, api.TrackRef | None, int, float]:
        """Poll until a final status or the deadline: (outcome, track, polls, waited ms)."""
        start = time.perf_counter()
        deadline = start + self.options.import_timeout
        polls = failed = 0
        while True:
            gevent.sleep(min(self.options.poll_interval, max(deadline - time.perf_counter(), 0)))
            polls += 1
            reply = self.call("GET", paths.UPLOADS, group="import_poll", name=f"{paths.UPLOADS}?import_reference=[ref]",
                              params=api.import_poll_params(reference), parse=api.parse_import_state)
            waited_ms = (time.perf_counter() - start) * 1000
            if reply.ok:
                failed = 0
                status, upload = reply.body
                if status in api.FINAL_IMPORT_STATUSES:
                    track = api.track_of_upload(upload) if status in api.PLAYABLE_IMPORT_STATUSES else None
                    return status, track, polls, waited_ms
            else:
                failed += 1
                if failed >= MAX_FAILED_POLLS:
                    return "failed", None, polls, waited_ms
            if time.perf_counter() >= deadline:
                return "timeout", None, polls, waited_ms

