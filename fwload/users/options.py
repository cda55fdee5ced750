"""Per-class options of the Locust user classes, as pydantic models.

Kept apart from the user classes so that validating a scenario never imports Locust
(importing Locust monkey-patches the standard library with gevent).
"""

from __future__ import annotations

import random
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fwload.funkwhale.api import MAX_BITRATE_KBPS, Transcode
from fwload.units import Duration, Size

AudioFormat = Literal["mp3", "ogg", "flac"]
TranscodeFormat = Literal["mp3", "ogg", "opus", "aac"]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    wait: tuple[Duration, Duration] = Field(
        (1.0, 3.0), description="Think time between two tasks: [min, max] seconds, drawn uniformly."
    )

    @model_validator(mode="after")
    def _wait_ordered(self) -> _Options:
        if self.wait[0] > self.wait[1]:
            raise ValueError(f"wait: min {self.wait[0]} s is above max {self.wait[1]} s")
        return self


class TranscodeOptions(BaseModel):
    """A share of plays asking the server to transcode: the most CPU a listener can cost it,
    since Funkwhale runs ffmpeg inside the API request (funkwhale-api.md §4.3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ratio: Annotated[float, Field(ge=0, le=1)] = Field(1.0, description="Share of plays that ask for it.")
    to: TranscodeFormat | None = Field(None, description="Format asked for (listen URL ``to=``).")
    max_bitrate: Annotated[int, Field(gt=0, le=MAX_BITRATE_KBPS)] | None = Field(
        None, description=f"Bitrate cap in kbps (``max_bitrate=``; Funkwhale clamps to 0-{MAX_BITRATE_KBPS})."
    )

    @model_validator(mode="after")
    def _asks_something(self) -> TranscodeOptions:
        if self.to is None and self.max_bitrate is None:
            raise ValueError("transcode needs 'to' (a format), 'max_bitrate' (kbps) or both")
        return self

    def draw(self) -> Transcode | None:
        """What this play asks for: the transcoding for a `ratio` share of plays, else the original."""
        return Transcode(self.to, self.max_bitrate) if random.random() < self.ratio else None


class _PlaybackOptions(_Options):
    """How a user plays audio (`fwload.users.player`): in real time like a browser, or at full speed."""

    playback: Literal["realtime", "download"] = Field(
        "realtime",
        description="realtime: play each track at its bitrate with a browser's read-ahead, measuring start-up "
        "delay and stalls; download: read it at full speed in Range requests of range_bytes (throughput tests).",
    )
    start_buffer: Duration = Field(
        0.2, ge=0, le=30, description="Audio buffered before playback starts or resumes after a stall "
        "(Chromium starts at 200 ms)."
    )
    read_ahead: Duration = Field(
        10.0, gt=0, description="Audio read ahead of the playback position (Chromium: 10 s, at least "
        "read_ahead_min); reading pauses half as much again past it, and resumes below it."
    )
    read_ahead_min: Size = Field(
        2_097_152, gt=0, description="Bytes read ahead at least, whatever the bitrate (Chromium: 2 MiB)."
    )
    skip_ratio: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="Share of plays skipped before they count as a listening (before half the track "
        "or 4 minutes), at a random point."
    )
    seek_ratio: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="Share of plays with one forward seek, at a random point to a random later one."
    )
    listen_fraction: Annotated[float, Field(gt=0, le=1)] = Field(
        1.0, description="Share of each (not skipped) track played before moving on; 1 = to the end."
    )
    range_bytes: Annotated[int, Field(gt=0)] = Field(
        262_144, description="playback: download only: bytes asked for in each Range request."
    )
    max_stream_bytes: Annotated[int, Field(gt=0)] | None = Field(
        None, description="Stop a play after this many bytes of the file (default: play it whole)."
    )


class ListenerOptions(_PlaybackOptions):
    """A person browsing the library and playing tracks."""

    listen_token: bool = Field(
        False,
        description="Authenticate audio with ?token=<tokens.listen> as the web player's <audio> does, "
        "instead of the Authorization header.",
    )
    favorite_ratio: Annotated[float, Field(ge=0, le=1)] = Field(
        0.2, description="Share of played tracks the listener also favorites."
    )
    search_ratio: Annotated[float, Field(ge=0, le=1)] = Field(
        0.3, description="Share of iterations that start with a search instead of browsing."
    )
    transcode: TranscodeOptions | None = Field(
        None, description="Ask a share of plays transcoded, e.g. {ratio: 0.1, to: ogg, max_bitrate: 128}."
    )


class SubsonicListenerOptions(_PlaybackOptions):
    """A Subsonic app (DSub, Symfonium, Ultrasonic) browsing and playing through nginx's ``/rest/``."""

    auth: Literal["token", "enc", "clear"] = Field(
        "token", description="How the app sends its password: token (t = md5(password + salt), s = salt, as "
        "modern apps do), enc (p=enc:<hex>, older apps) or clear (p=<password>)."
    )
    songs: Annotated[int, Field(gt=0)] = Field(
        2, description="Songs played one after the other from the album, search or shuffle picked."
    )
    search_ratio: Annotated[float, Field(ge=0, le=1)] = Field(
        0.2, description="Share of sessions that start with search3 instead of browsing artist and album."
    )
    random_ratio: Annotated[float, Field(ge=0, le=1)] = Field(
        0.2, description="Share of sessions that shuffle (getRandomSongs) instead of browsing."
    )
    random_songs: Annotated[int, Field(gt=0, le=500)] = Field(20, description="getRandomSongs size.")
    covers: Annotated[int, Field(ge=0)] = Field(
        4, description="getCoverArt requests per screen, for the shown items that have cover art."
    )
    transcode: TranscodeOptions | None = Field(
        None, description="Ask a share of streams transcoded (stream.view format= and maxBitRate=), e.g. "
        "{ratio: 0.3, max_bitrate: 128}: Funkwhale answers a bitrate cap alone with mp3."
    )

    @model_validator(mode="after")
    def _ratios_fit(self) -> SubsonicListenerOptions:
        if self.search_ratio + self.random_ratio > 1:
            raise ValueError("search_ratio + random_ratio is above 1")
        return self


class UploaderOptions(_PlaybackOptions):
    """A person adding tracks to their library and playing them once imported."""

    import_timeout: Duration = Field(
        60.0, gt=0, description="Give up waiting for an import after this long (real 1.4 leaves "
        "untagged files pending forever)."
    )
    poll_interval: Duration = Field(1.0, gt=0, description="Seconds between two polls of the upload list.")
    bad_files: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="Share of uploads that use a deliberately bad fixture (untagged, no artist, "
        "corrupt, duplicate)."
    )
    formats: tuple[AudioFormat, ...] = Field(
        ("mp3", "ogg", "flac"), min_length=1, description="Audio formats to upload."
    )
    stream_after_import: bool = Field(True, description="Play each finished upload once.")
    library_privacy: Literal["me", "instance", "everyone"] = Field(
        "instance", description="Privacy of the uploader's library; 'instance' lets listeners of the "
        "same pod play what uploaders add."
    )


USER_CLASS_OPTIONS: dict[str, type[_Options]] = {
    "Listener": ListenerOptions,
    "Uploader": UploaderOptions,
    "SubsonicListener": SubsonicListenerOptions,
}
"""Every user class a scenario may name, with the model of its options."""
