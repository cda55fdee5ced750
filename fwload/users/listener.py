"""A person browsing the library and playing tracks."""

from __future__ import annotations

import random
import re
from typing import Any, ClassVar

from locust import task

from fwload.funkwhale import api, paths
from fwload.users.base import FunkwhaleUser
from fwload.users.options import ListenerOptions
from fwload.users.shares import Shares

PAGE_SIZE = 25
_SEARCH_WORD = re.compile(r"\w{3,}")
"""Whole words of a title: real 1.4 searches with PostgreSQL full-text search, and a query
made of punctuation ("&", "(Live)") is a tsquery syntax error answered 400 (§3.3)."""


class Listener(FunkwhaleUser):
    """Browses playable tracks (or searches), plays one through ``listen_url`` as the web
    player does (`fwload.users.player`), records the listening when the web player would,
    sometimes favorites it."""

    weight = 3
    options: ClassVar[ListenerOptions] = ListenerOptions()
    shares: ClassVar[Shares] = Shares()

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.pages = 1
        self.seen: list[api.TrackRef] = []

    @task
    def listen_session(self) -> None:
        tracks = self.search() if self.seen and self.shares.take("search", self.options.search_ratio) else []
        if not tracks:
            tracks = self.browse()
        if not tracks:
            return
        track = random.choice(tracks)
        transcode = self.options.transcode.draw() if self.options.transcode else None
        realtime = self.options.playback == "realtime"
        result = self.play(track, on_listened=(lambda: self.record_listening(track)) if realtime else None,
                           transcode=transcode)
        if not result.ok:
            return
        if not realtime:
            self.record_listening(track)
        if self.shares.take("favorite", self.options.favorite_ratio):
            self.call("POST", paths.FAVORITES, group="favorites", expect=(201,), json=api.track_body(track.id))

    def browse(self) -> list[api.TrackRef]:
        page = random.randint(1, self.pages)
        reply = self.call("GET", paths.TRACKS, group="browse", params=api.tracks_params(page, PAGE_SIZE),
                          parse=lambda body: (api.page_count(body, PAGE_SIZE), api.playable_tracks(body)))
        if not reply.ok:
            return []
        self.pages, tracks = reply.body
        if tracks:
            self.seen = (self.seen + tracks)[-200:]
        return tracks

    def search(self) -> list[api.TrackRef]:
        """Search a word of a known title; play only hits known to be playable, because
        search results list every track, playable or not (§3.3)."""
        words = _SEARCH_WORD.findall(random.choice(self.seen).title)
        if not words:
            return []
        reply = self.call("GET", paths.SEARCH, group="search", params=api.search_params(random.choice(words)),
                          parse=api.search_tracks)
        if not reply.ok:
            return []
        playable = {t.id for t in self.seen}
        return [t for t in reply.body if t.id in playable]
