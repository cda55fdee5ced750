"""fwload's own measurements, as Locust event hooks the user classes fire.

Besides Locust's ``request`` event (one per HTTP request), a play, an import and an
arriving session are measurements of their own: what a listener waits for before audio
starts (and how often it stops), what an uploader waits for before a track appears, when a
person arrived and whether the generator could let them in on time. The recorder listens to
these hooks. Keyword arguments are the columns of the streams / plays / imports / sessions
tables (`schema`), without ``worker``, which the recorder adds.
"""

from __future__ import annotations

from locust.event import EventHook

import_done = EventHook()
"""Fired once per upload whose import was followed: ts, upload, outcome, wait_ms, polls,
fixture, format, bytes, user_class."""

stream_done = EventHook()
"""Fired once per play: ts, track, status, ttfb_ms, total_ms, bytes, range, error_kind,
user_class."""

play_done = EventHook()
"""Fired once per play, when it ends: ts, track, client, playback, transcode, startup_ms,
stalls, stall_ms, seek_wait_ms, played_s, duration_s, bytes, requests, outcome, error_kind,
gaps, user_class. Unknown or not measured figures are ""."""

throttled = EventHook()
"""Fired when the server throttled a call (before the user waits Retry-After): group,
retry_after_s, scope."""

session_done = EventHook()
"""Fired once per session of an arrivals run, started or dropped: intended_ts, start_ts,
start_delay_ms, first_ms, length_s, ended_ts, iterations, outcome, reason, user_class
(the columns of sessions.csv)."""

user_stopped = EventHook()
"""Fired when a virtual user stops before its first task because it could not authenticate:
user_class, reason (no credentials in it)."""
