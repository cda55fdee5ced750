"""fwload's own measurements, as Locust event hooks the user classes fire.

Besides Locust's ``request`` event (one per HTTP request), a play and an import are
measurements of their own: what a listener waits for before audio starts, and what an
uploader waits for before a track appears. The recorder listens to these hooks.
Keyword arguments are the columns of the streams / imports tables (`schema`), without
``worker``, which the recorder adds.
"""

from __future__ import annotations

from locust.event import EventHook

import_done = EventHook()
"""Fired once per upload whose import was followed: ts, upload, outcome, wait_ms, polls,
fixture, format, bytes, user_class."""

stream_done = EventHook()
"""Fired once per play: ts, track, status, ttfb_ms, total_ms, bytes, range, error_kind,
user_class."""

throttled = EventHook()
"""Fired when the server throttled a call (before the user waits Retry-After): group,
retry_after_s, scope."""

iteration_done = EventHook()
"""Fired each time a virtual user finishes a task iteration (no arguments): the achieved
rate is compared with a scenario's pacing target."""
