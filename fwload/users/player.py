"""The player every listening user class uses: a listen URL played as a browser's <audio> plays it.

What the Funkwhale 1.4 web player does (front-end source, read in a mirror of
funkwhale/funkwhale of the 1.4 series, mx2913/funkwhale):

- ``front/src/api/player.ts`` (`HTMLSound`): one ``new Audio()`` per track, ``src`` = the
  upload's listen URL, ``preload = 'auto'``; the browser's media stack does every request.
  No Howler any more (the older ``front/src/components/audio/Player.vue``, still with
  ``?jwt=``, played Howls with ``html5: true, preload: true`` and preloaded the next track
  15 s in).
- ``front/src/composables/audio/tracks.ts`` (`getTrackSources`): the track's uploads in
  order, ``?token=<tokens.listen>`` appended when logged in, plus a ``to=mp3`` transcoded
  source the element falls back on only when it cannot play the original; the next track
  of the queue is created and ``preload()``-ed 100 ms after the current one (a Listener has
  no queue: it picks its next track when a play ends, so that preload is not modelled).
- ``front/src/composables/audio/player.ts``: a listening is POSTed to
  ``/history/listenings/`` once ``currentTime > min(duration / 2, 4 min)``, once per play
  (`fwload.funkwhale.api.listening_due_s`).
- ``front/src/composables/audio/queue.ts``: "next" moves on at once (a skip); the player's
  keys seek ±5 s / ±30 s and a click on the progress bar seeks anywhere.

So the requests are the browser's. Chromium's media loader
(``third_party/blink/renderer/platform/media/multi_buffer_data_source.cc``) asks
``Range: bytes=0-`` and reads progressively; with ``preload=auto`` it keeps 10 s of audio
ahead, clamped to [2 MiB, 50 MiB] (``kMinBufferPreload``, ``kMaxBufferPreload``), reads
1 MiB past that (``kPreloadHighExtra``) and stops reading until the buffer falls back to
it — the connection stays open, TCP holds the rest. Playback starts once 200 ms of audio
is queued (``media/filters/audio_renderer_algorithm.cc``, ``kStartingCapacityInMs``). A seek
outside the buffer opens ``Range: bytes=<offset>-``; a connection the server closed is
reopened from where it stopped. The options (`fwload.users.options`) default to these
figures: ``start_buffer`` 200 ms, ``read_ahead`` 10 s at least ``read_ahead_min`` 2 MiB,
half as much again before pausing (3 MiB for a 128 kbit/s track, as Chromium).

How it runs: one greenlet per listener, which either blocks in ``recv`` on the audio
socket (bytes are counted as they arrive, whatever their number) or sleeps until the
buffer falls to its low watermark or the next thing due (the stop point, a seek, the
listening); the listening POST alone runs in a short greenlet of its own, as the browser
sends it beside the audio download, and the play waits for it before it ends; `fwload.playback.clock` turns the arrival times into exact start-up delay,
stalls and played time. Every HTTP request goes through the user's Locust client, so
Locust's statistics and requests.csv see each one (group ``listen`` by default).

`Player.play` takes an `AudioSource`: what to fetch and what is known of it beforehand,
so a Subsonic app (``/rest/stream.view?id=...`` with the token in the query) or a
transcoded listen URL play through the same code.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent import GreenletExit

from fwload.funkwhale import api
from fwload.playback.clock import Phase, PlaybackClock, PlayTotals, Seek
from fwload.playback.rate import byte_rate, header_rate
from fwload.playback.tally import TALLY
from fwload.recording import measurements
from fwload.recording.classify import error_kind

READ_LIMIT = 65_536
"""Most bytes taken from the socket at once; fewer when fewer have arrived, or when the buffer
is that close to its pause mark (never fewer than `READ_MIN`): the read-ahead stays bounded."""
READ_MIN = 4096
HEADER_BYTES = 32_768
"""Bytes read before asking the file's header for its bitrate, when the server said nothing."""
FALLBACK_BYTE_RATE = 16_000.0
"""128 kbit/s: assumed for a file whose bitrate neither the server nor its header tells."""
MAX_RECONNECTS = 3
LISTENING_GRACE_S = 5.0
READ_AHEAD_MAX = 50 * 2**20
PAUSE_EXTRA_MAX = 2**20


@dataclass(frozen=True, slots=True)
class AudioSource:
    """One audio URL to play and what is known about it before the first byte.

    ``path`` may carry a query (a Funkwhale ``listen_url`` does); ``params`` are added to it.
    Authentication is either ``headers`` (and ``basic``) or in the query (a listen token, a
    Subsonic ``u``/``t``/``s``): the player sends what it is given. ``duration_s``,
    ``bitrate_bps`` and ``size`` may be None: the answer's size and the file's header fill in.
    """

    path: str
    name: str
    """The Locust request name (a path template: no ids, no tokens)."""
    track: int | str
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    basic: tuple[str, str] | None = None
    duration_s: float | None = None
    bitrate_bps: float | None = None
    size: int | None = None
    client: str = "web"
    transcode: str = ""
    group: str = "listen"
    explain: Callable[[str | None, Callable[[], bytes]], str | None] | None = None
    """What an answer that is not audio says (a Subsonic ``status: failed`` comes as a 200 with
    a JSON body): given the Content-Type and a way to read the body, the failure to record."""


@dataclass(frozen=True, slots=True)
class PlayResult:
    outcome: str
    """One of `fwload.recording.schema.PLAY_OUTCOMES`."""
    status: int
    """HTTP status of the first audio request (0 when none answered)."""
    error_kind: str = ""
    bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome not in ("failed", "unfinished")


class _Failed(Exception):
    def __init__(self, kind: str):
        self.kind = kind


class _Due(Exception):
    """A read was cut short because something is due (a seek, the stop point, the listening)."""


class _Fetch:
    """One audio request in flight, entered by hand so a play can switch connections.

    Its Locust request is reported when it is closed: ``response_time`` is the time to the
    first body byte when ``to_first_byte`` (a real-time play reads the body for as long as
    the track lasts), else the time to the last byte read.
    """

    def __init__(self, player: Player, source: AudioSource, start: int, end: int | None, number: int,
                 to_first_byte: bool):
        self.number = number
        self.start = start
        self.range = f"bytes={start}-{'' if end is None else end}"
        self.to_first_byte = to_first_byte
        headers = {**source.headers, "Range": self.range, "Accept": api.AUDIO_ACCEPT}
        self.explain = source.explain
        self.sent = time.perf_counter()
        self.sent_at = time.monotonic()
        self._cm = player.user.client.request(
            "GET", source.path, name=source.name, params=source.params, headers=headers, auth=source.basic,
            stream=True, catch_response=True, context=player.context(source.group),
        )
        self.response = self._cm.__enter__()
        self.status = self.response.status_code or 0
        self.raw = getattr(self.response, "_response", None)
        self.body = 0
        self.ttfb_ms: float | None = None
        self.last_byte = self.sent
        self.total: int | None = None
        self.failure: str | BaseException | None = None
        self.kind = ""
        self.closed = False

    @property
    def finished(self) -> bool:
        """The whole answer body has been read."""
        raw = self.raw
        return raw is None or raw._sock is None and not raw._body_buffer

    def check(self) -> None:
        """Judge the answer's status and headers; raise `_Failed` when it carries no audio."""
        response, status = self.response, self.status
        if status not in (200, 206):
            error = getattr(response, "error", None)
            self.failure = f"HTTP {status}" if status else (error or "no answer")
            raise _Failed(error_kind(status, error if not status else None, response.headers))
        headers = response.headers
        length = headers.get("Content-Length")
        body = int(length) if length is not None and length.isdigit() else None
        if problem := api.audio_problem(headers, body):
            explained = self.explain(headers.get("Content-Type"), lambda: response.content) if self.explain else None
            self.failure = explained or problem
            raise _Failed("unexpected")
        if status == 206:
            self.total = api.content_range_total(headers.get("Content-Range"))
        elif self.start:
            self.failure = f"answered 200 (the whole file) to Range {self.range}"
            raise _Failed("unexpected")
        else:
            self.total = body

    def read(self, deadline: float | None, keep: bytearray | None = None, limit: int = READ_LIMIT) -> int:
        """Bytes that arrived (at least one; 0 at the end of the body), waiting until ``deadline``
        (monotonic) at most: then `_Due`. A connection closed early raises `ConnectionError`.

        The bytes are counted, not kept (a listener holds no audio in memory), unless ``keep``
        asks for them. geventhttpclient's ``read(n)`` waits for n bytes; this takes what
        arrived, so each byte is counted when it came, not when a block of them was full.
        """
        raw = self.raw
        buffer = raw._body_buffer
        if not buffer:
            sock = raw._sock
            if sock is None:
                return 0
            wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                with gevent.Timeout(wait, _Due):
                    data = sock.recv(limit)
            except _Due:
                raise
            except BaseException:
                raw.release()
                raise
            if not data:
                raw.release()
                raise ConnectionError("the server closed the connection before the end of the audio")
            raw.feed(data)
        got = len(buffer)
        if keep is not None:
            keep.extend(buffer)
        del buffer[:]
        now = time.perf_counter()
        if self.ttfb_ms is None and got:
            self.ttfb_ms = (now - self.sent) * 1000
        self.last_byte = now
        self.body += got
        return got

    def fail(self, error: BaseException | str, kind: str) -> None:
        self.failure = error
        self.kind = kind

    def close(self) -> None:
        """Report the request to Locust and free its connection (closed if the body was not all read)."""
        if self.closed:
            return
        self.closed = True
        meta = self.response.request_meta
        first = self.ttfb_ms if self.ttfb_ms is not None else meta.get("response_time")
        meta["response_time"] = first if self.to_first_byte else (self.last_byte - self.sent) * 1000
        meta["response_length"] = self.body
        if self.failure is not None:
            self.response.failure(self.failure)
        else:
            self.response.success()
        if self.raw is not None and self.raw._sock is not None:
            self.raw.release()
        self._cm.__exit__(None, None, None)


class Player:
    """Plays `AudioSource`s for one Locust user, following its ``options`` (`fwload.users.options`)."""

    def __init__(self, user: Any, options: Any):
        self.user = user
        self.options = options
        self._contexts: dict[str, dict[str, str]] = {}

    def context(self, group: str) -> dict[str, str]:
        context = self._contexts.get(group)
        if context is None:
            context = self._contexts[group] = {"group": group}
        return context

    def play(self, source: AudioSource, on_listened: Callable[[], Any] | None = None) -> PlayResult:
        """Play ``source`` whole (or as the options say) and record it; ``on_listened`` is called,
        in a greenlet of its own, when the play would count as a listening (real time only)."""
        if self.options.playback == "download":
            play = _Play(self, source, None)
            return play.run(play.download)
        play = _Play(self, source, on_listened)
        return play.run(play.realtime)


class _Play:
    """One play's state: its requests, its clock, the rows it writes."""

    def __init__(self, player: Player, source: AudioSource, on_listened: Callable[[], Any] | None):
        self.player = player
        self.options = player.options
        self.source = source
        self.on_listened = on_listened
        self.wall_start = time.time()
        self.started = time.monotonic()
        self.fetches: list[_Fetch] = []
        self.clock: PlaybackClock | None = None
        self.duration_s: float | None = None
        self.kind = ""
        self.listening: gevent.Greenlet | None = None
        self.listen_at: float | None = None

    def run(self, body: Callable[[], str]) -> PlayResult:
        """Run ``body`` (it returns the outcome); whatever happens, close the play's requests
        (each reported to Locust) and write its rows, once."""
        outcome = "failed"
        try:
            try:
                outcome = body()
            except _Failed as failed:
                self.kind = failed.kind
            except GreenletExit:
                outcome = "unfinished"
                raise
            except Exception as error:  # noqa: BLE001 - a play that breaks is a measured failure, not a dead user
                self.kind = error_kind(0, error)
                if self.fetches and self.fetches[-1].failure is None:
                    self.fetches[-1].fail(error, self.kind)
            finally:
                self._close_all()
                if self.listening is not None:
                    self._finish_listening(outcome == "unfinished")
        finally:
            self._record(outcome)
        return self._result(outcome)

    def _finish_listening(self, stopping: bool) -> None:
        """Let the listening POST in flight finish (and be recorded: the server saw it); a test
        stopping waits for it a little only."""
        listening = self.listening
        assert listening is not None
        listening.join(timeout=LISTENING_GRACE_S if stopping else None)
        if not listening.dead:
            listening.kill(block=False)

    # -- real time -------------------------------------------------------------------------

    def realtime(self) -> str:
        """One progressive request, read as the track plays (see the module docstring)."""
        fetch = self._open(0, None, to_first_byte=True)
        fetch.check()
        clock = self._make_clock(fetch)
        TALLY.begin(clock)
        options = self.options
        low = min(max(options.read_ahead * clock.byte_rate, options.read_ahead_min), READ_AHEAD_MAX)
        high = low + min(low / 2, PAUSE_EXTRA_MAX)
        reconnects = 0
        filling = True
        while True:
            now = time.monotonic()
            clock.advance(now)
            self._maybe_listened()
            if clock.done:
                break
            if clock.fetch != fetch.number:
                fetch.close()
                fetch = self._open(int(clock.wanted or 0), None, to_first_byte=True, number=clock.fetch)
                fetch.check()
                filling = True
            ahead = clock.ahead()
            if filling and ahead >= high and not clock.complete():
                filling = False
            elif not filling and (ahead <= low or clock.phase is not Phase.PLAYING):
                filling = True
            due = self._next_due(clock)
            if clock.complete() or fetch.finished or not filling:
                wake = due if filling or clock.complete() else _earliest(due, clock.when_ahead_falls_to(low))
                if wake is None:
                    if fetch.finished and not clock.complete():
                        raise _Failed(self._short_body(fetch))
                    wake = now + 1.0
                gevent.sleep(max(wake - now, 0.0))
                continue
            try:
                got = fetch.read(due, limit=int(min(max(high - ahead, READ_MIN), READ_LIMIT)))
            except _Due:
                continue
            except Exception as error:  # noqa: BLE001 - a broken transfer is a measured failure
                if reconnects >= MAX_RECONNECTS or fetch.body == 0:
                    fetch.fail(error, error_kind(0, error))
                    raise _Failed(fetch.kind) from None
                reconnects += 1
                fetch.close()
                fetch = self._open(int(clock.have_to), None, to_first_byte=True, number=clock.fetch)
                fetch.check()
                continue
            if fetch.finished and clock.size is None:
                clock.set_size(fetch.start + fetch.body)
            clock.arrive(time.monotonic(), fetch.start + fetch.body, fetch.number)
            if got == 0 and not clock.complete():
                raise _Failed(self._short_body(fetch))
        return self._outcome(clock)

    def _make_clock(self, fetch: _Fetch) -> PlaybackClock:
        """The play's clock, once the answer's headers told the file's size."""
        source, options = self.source, self.options
        size = fetch.total or source.size
        rate = byte_rate(size, source.duration_s, source.bitrate_bps)
        head = bytearray()
        if rate is None:
            while len(head) < HEADER_BYTES and not fetch.finished and fetch.read(None, keep=head):
                pass
            rate = header_rate(bytes(head), size) or FALLBACK_BYTE_RATE
        self.duration_s = size / rate if size else source.duration_s
        stop_at, seeks = self._plan(size, rate)
        clock = PlaybackClock(self.started, rate, options.start_buffer * rate, size=size, stop_at=stop_at,
                              seeks=seeks)
        if head:
            clock.arrive(time.monotonic(), len(head))
        if self.on_listened is not None and self.duration_s:
            self.listen_at = api.listening_due_s(self.duration_s) * rate
        self.clock = clock
        return clock

    def _plan(self, size: int | None, rate: float) -> tuple[float | None, list[Seek]]:
        """Where this play stops and whether it seeks, drawn from the options."""
        options = self.options
        stop_at: float | None = None
        if size:
            if random.random() < options.skip_ratio:
                stop_at = random.uniform(0.0, api.listening_due_s(size / rate)) * rate
            elif options.listen_fraction < 1:
                stop_at = size * options.listen_fraction
        if options.max_stream_bytes is not None:
            stop_at = min(stop_at if stop_at is not None else float("inf"), float(options.max_stream_bytes))
        seeks: list[Seek] = []
        span = stop_at if stop_at is not None else size
        if span and random.random() < options.seek_ratio:
            at = random.uniform(0.1, 0.5) * span
            seeks.append(Seek(at, random.uniform(at, span)))
        return stop_at, seeks

    def _next_due(self, clock: PlaybackClock) -> float | None:
        due = clock.next_change()
        if self.listen_at is not None and self.listening is None:
            due = _earliest(due, clock.when_position(self.listen_at))
        return due

    def _maybe_listened(self) -> None:
        if self.listen_at is None or self.listening is not None or self.clock is None:
            return
        if self.clock.pos >= self.listen_at:
            self.listening = gevent.spawn(self.on_listened)  # type: ignore[arg-type]

    @staticmethod
    def _outcome(clock: PlaybackClock) -> str:
        if clock.seeks_done:
            return "seeked"
        return "skipped" if clock.size is not None and clock.end < clock.size else "ended"

    @staticmethod
    def _short_body(fetch: _Fetch) -> str:
        fetch.fail("the answer ended before the audio did", "unexpected")
        return "unexpected"

    # -- download ----------------------------------------------------------------------------

    def download(self) -> str:
        """Range requests of ``range_bytes`` at full speed, every byte read (throughput tests)."""
        options = self.options
        limit = options.max_stream_bytes
        offset = 0
        while True:
            want = options.range_bytes if limit is None else min(options.range_bytes, limit - offset)
            if want <= 0:
                return "skipped"
            fetch = self._open(offset, offset + want - 1, to_first_byte=False)
            fetch.check()
            if self.clock is None:
                self._make_download_clock(fetch)
            while True:
                try:
                    got = fetch.read(None)
                except Exception as error:  # noqa: BLE001 - a broken transfer is a measured failure
                    fetch.fail(error, error_kind(0, error))
                    raise _Failed(fetch.kind) from None
                if not got:
                    break
                self.clock.arrive(time.monotonic(), fetch.start + fetch.body)  # type: ignore[union-attr]
            fetch.close()
            offset += fetch.body
            total = fetch.total
            if fetch.status == 200 or fetch.body == 0 or (total is not None and offset >= total):
                return "ended" if fetch.body else "failed"

    def _make_download_clock(self, fetch: _Fetch) -> None:
        source = self.source
        size = fetch.total or source.size
        rate = byte_rate(size, source.duration_s, source.bitrate_bps) or FALLBACK_BYTE_RATE
        self.duration_s = size / rate if size else source.duration_s
        self.clock = PlaybackClock(self.started, rate, self.options.start_buffer * rate, size=size)

    # -- both --------------------------------------------------------------------------------

    def _open(self, start: int, end: int | None, *, to_first_byte: bool, number: int = 0) -> _Fetch:
        fetch = _Fetch(self.player, self.source, start, end, number, to_first_byte)
        self.fetches.append(fetch)
        return fetch

    def _close_all(self) -> None:
        failed = self.kind
        for fetch in self.fetches:
            if failed and fetch is self.fetches[-1] and fetch.failure is None and fetch.status in (200, 206):
                fetch.fail("the play failed", failed)
            fetch.close()

    def _result(self, outcome: str) -> PlayResult:
        first = self.fetches[0].status if self.fetches else 0
        return PlayResult(outcome, first, self.kind, sum(f.body for f in self.fetches))

    def _record(self, outcome: str) -> None:
        """One streams.csv row and one plays.csv row for the play."""
        now = time.monotonic()
        source, clock, fetches = self.source, self.clock, self.fetches
        totals: PlayTotals | None = None
        if clock is not None:
            realtime = self.options.playback != "download"
            totals = clock.finish(now) if realtime else clock.totals()
            if realtime:
                TALLY.end(clock, totals)
        received = sum(f.body for f in fetches)
        first = fetches[0] if fetches else None
        user_class = type(self.player.user).__name__
        kind = self.kind if outcome == "failed" else ""
        if first is not None:
            last_byte = max(f.last_byte for f in fetches)
            measurements.stream_done.fire(
                ts=self.wall_start, track=source.track, status=first.status,
                ttfb_ms=first.ttfb_ms if first.ttfb_ms is not None else "",
                total_ms=(last_byte - first.sent) * 1000, bytes=received, range=first.range,
                error_kind=kind, transcode=source.transcode, user_class=user_class,
            )
        realtime = totals is not None and self.options.playback != "download"
        measurements.play_done.fire(
            ts=self.wall_start, track=source.track, client=source.client, playback=self.options.playback,
            transcode=source.transcode,
            startup_ms=_ms(totals.startup_s) if totals is not None else "",
            stalls=totals.stalls if realtime else "",
            stall_ms=_ms(totals.stall_s) if realtime else "",
            seek_wait_ms=_ms(totals.seek_wait_s) if realtime else "",
            played_s=round(totals.played_s, 3) if realtime else "",
            duration_s=round(self.duration_s, 3) if self.duration_s else "",
            bytes=received, requests=len(fetches), outcome=outcome, error_kind=kind,
            gaps=_gaps(totals, self.started) if realtime else "", user_class=user_class,
        )


def _earliest(*times: float | None) -> float | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _ms(seconds: float | None) -> Any:
    return "" if seconds is None else round(seconds * 1000, 3)


def _gaps(totals: PlayTotals, started: float) -> str:
    return " ".join(f"{gap.kind}@{gap.start - started:.3f}+{gap.seconds:.3f}" for gap in totals.gaps)
