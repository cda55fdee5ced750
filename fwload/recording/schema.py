"""The run directory format: the contract between running a test and analysing it.

A run directory (``reports/<run-id>/``) is written while the test runs and read, alone,
by the analysis. Every file below is append-only while the run is going, flushed about
once a second, so a killed run leaves everything up to its last seconds on disk.

Times are Unix epoch seconds (float, UTC). Latencies are **milliseconds** as measured
(never rounded). Sizes are bytes. CPU is millicores. Empty CSV fields mean "not known".

``run.json``
    Metadata, no secrets: see `RUN_JSON_KEYS`. ``status`` is ``running`` until the run ends
    (`RUN_STATUSES`); a run directory still saying ``running`` after the fact is a truncated run.
``scenario.yaml``
    The resolved scenario (passwords and tokens masked).
``requests.csv``  (`REQUEST_COLUMNS`)
    One row per HTTP request any virtual user made.
      ts           request start
      group        request group (`REQUEST_GROUPS`), e.g. ``browse``
      name         Locust's request name (path template), e.g. ``/api/v1/tracks/``
      method       HTTP method
      status       HTTP status, 0 when no response arrived
      response_ms  exact response time in milliseconds, whole body read; for the audio of a
                   ``realtime`` play, the time to the first body byte (its body is read as
                   it plays, for as long as the track lasts: see plays.csv)
      bytes        response body bytes received
      error_kind   "" when the request succeeded, else one of `ERROR_KINDS`
      error        short error text ("" when ok); never contains credentials
      user_class   the Locust user class name
      worker       "local", or the Locust worker index for distributed runs
``imports.csv``  (`IMPORT_COLUMNS`)
    One row per upload whose import was waited for.
      ts           when the upload POST was answered 201 (the import was accepted), or
                   refused / failed
      upload       upload uuid (or "" when the POST itself failed or was refused)
      outcome      one of `IMPORT_OUTCOMES`
      wait_ms      accepted -> final status seen (or -> giving up, for ``timeout``)
      polls        list polls made while waiting
      fixture      the kind of file uploaded: ``valid`` or a deliberate bad kind
                   (``untagged``, ``no_artist``, ``corrupt``, ``duplicate``)
      format       file extension (mp3, ogg, flac)
      bytes        uploaded file size
      user_class, worker
``streams.csv``  (`STREAM_COLUMNS`)
    One row per play's transfer through a listen URL (the transport view of a play; what
    the listener heard is in plays.csv). A real-time play reads as fast as it plays, so
    its ``total_ms`` is about the track's length; a ``download`` play reads at full speed.
      ts           first request start
      track        track id (integer, as in the API)
      status       HTTP status of the first request (200, 206, ...)
      ttfb_ms      time to the first body byte
      total_ms     time to the last body byte read
      bytes        body bytes read
      range        the first Range header sent ("" for none), e.g. ``bytes=0-`` (a
                   browser's progressive download) or ``bytes=0-262143`` (``download``)
      error_kind   as in requests.csv
      transcode    what the play asked the server to transcode to ("" for the original file):
                   ``ogg``, ``ogg@128`` (format and bitrate cap in kbps), ``@128`` (cap only)
      user_class, worker
``sessions.csv``  (`SESSION_COLUMNS`)
    One row per session an arrivals run (``load.profile: arrivals``) asked for, started or
    not; empty in other runs.
      intended_ts     when the session was due (the arrival schedule's instant)
      start_ts        when a slot started it ("" when dropped)
      start_delay_ms  start_ts - intended_ts in milliseconds ("" when dropped): the
                      generator's own lateness; never added to requests.csv's response_ms
      first_ms        intended_ts -> the session's first answer (the app's first call),
                      milliseconds: the wait a person arriving at intended_ts felt, start
                      delay included (coordinated omission corrected; "" when none came)
      length_s        the session length drawn for it ("" when only iterations end it)
      ended_ts        when it ended ("" when it never started)
      iterations      task iterations it ran
      outcome         one of `SESSION_OUTCOMES`
      reason          why a session was dropped (`DROP_REASONS`), cut (``run_end``) or
                      failed (``login``); "" when completed
      user_class, worker
``plays.csv``  (`PLAY_COLUMNS`)
    One row per play: what the listener heard (`fwload.playback.clock` has the rules).
    Stall and start-up figures are exact, computed from when bytes arrived against the
    playback clock. Only ``realtime`` plays have a playback clock: a ``download`` play
    leaves stalls, stall_ms, seek_wait_ms and played_s empty.
      ts           the first audio request was sent
      track        track id (as the client knows it: integer for the v1 API)
      client       who played: ``web`` (the Funkwhale web player), a Subsonic app...
      playback     one of `PLAYBACK_MODES`
      transcode    the format asked for (``to=``), "" for the original file
      startup_ms   request → enough audio buffered to start ("" when it never started)
      stalls       times the buffer ran dry before the stop point
      stall_ms     total time stalled, ms (a stall still going at the end counts up to it)
      seek_wait_ms total wait after seeks to positions not buffered, ms
      played_s     seconds of audio played
      duration_s   the track's duration in seconds, as the player used it
      bytes        audio bytes received
      requests     HTTP requests the play made (1 unless it seeked or reconnected)
      outcome      one of `PLAY_OUTCOMES`
      error_kind   as in requests.csv ("" unless ``failed``)
      gaps         the stalls and seek waits, space-separated ``stall@OFFSET+SECONDS`` or
                   ``seek@OFFSET+SECONDS``, OFFSET in seconds after ts ("" for none): what
                   places each silence in its time window
      user_class, worker
``resources.csv``  (`RESOURCE_COLUMNS`)
    One row per container (or local process group) per collector sample.
      ts, source (``kubernetes`` | ``processes`` | ``prometheus``), component, pod, container, node
      cpu_m                 CPU use in millicores over the last interval
      memory_bytes          memory the limit is compared with (working set / memcg charge)
      memory_anon_bytes     the part that cannot be reclaimed (anonymous / RSS), if known
      memory_peak_bytes     peak charge since start, if known (cgroup max usage)
      cpu_request_m, cpu_limit_m, memory_request_bytes, memory_limit_bytes
                            the live requests and limits ("" when none is set)
      restarts              container restart count (cumulative)
      oom_kills             OOM kills seen for this container (cumulative)
      throttled_periods, periods, throttled_s
                            CFS throttling counters (cumulative), if known
      respawns              worker processes that replaced a dead one (cumulative)
      phase, ready          pod phase, container readiness (``true``/``false``)
      stage                 the load stage at sampling time
``resource_history.csv``  (`RESOURCE_HISTORY_COLUMNS`, optional)
    Usage over a longer window than the run, for right-sizing only (``fwload report
    --history 7d``); its window, step and source are in run.json ``resource_history``.
      ts, source (``prometheus``), component, pod, container
      cpu_m                 CPU use in millicores, averaged over the rate window
      memory_bytes          working set: the peak within each step when the step spans
                            several scrapes, else the value at the step
``events.jsonl``
    One JSON object per line: ``{"ts": ..., "type": ..., ...}``; types in `EVENT_TYPES`.
    Events a collector added after the run (``fwload report --collect-from``) carry
    ``"collected_after": true``.
``locust/``
    Locust's own CSV, HTML and JSON outputs.
``progress.json``
    Live figures rewritten every second while the run goes (for progress lines); not data.
``verdict.json``, ``junit.xml``, ``summary.md``, ``report.html``
    Written by the analysis (``fwload report``).
"""

from __future__ import annotations

FORMAT = "fwload-run/1"

RUN_JSON = "run.json"
SCENARIO_YAML = "scenario.yaml"
REQUESTS_CSV = "requests.csv"
IMPORTS_CSV = "imports.csv"
STREAMS_CSV = "streams.csv"
SESSIONS_CSV = "sessions.csv"
PLAYS_CSV = "plays.csv"
RESOURCES_CSV = "resources.csv"
RESOURCE_HISTORY_CSV = "resource_history.csv"
EVENTS_JSONL = "events.jsonl"
LOCUST_DIR = "locust"
PROGRESS_JSON = "progress.json"

REQUEST_COLUMNS = (
    "ts", "group", "name", "method", "status", "response_ms", "bytes",
    "error_kind", "error", "user_class", "worker",
)
IMPORT_COLUMNS = (
    "ts", "upload", "outcome", "wait_ms", "polls", "fixture", "format", "bytes",
    "user_class", "worker",
)
STREAM_COLUMNS = (
    "ts", "track", "status", "ttfb_ms", "total_ms", "bytes", "range", "error_kind", "transcode",
    "user_class", "worker",
)
SESSION_COLUMNS = (
    "intended_ts", "start_ts", "start_delay_ms", "first_ms", "length_s", "ended_ts", "iterations",
    "outcome", "reason", "user_class", "worker",
)
PLAY_COLUMNS = (
    "ts", "track", "client", "playback", "transcode", "startup_ms", "stalls", "stall_ms", "seek_wait_ms",
    "played_s", "duration_s", "bytes", "requests", "outcome", "error_kind", "gaps", "user_class", "worker",
)
RESOURCE_COLUMNS = (
    "ts", "source", "component", "pod", "container", "node",
    "cpu_m", "memory_bytes", "memory_anon_bytes", "memory_peak_bytes",
    "cpu_request_m", "cpu_limit_m", "memory_request_bytes", "memory_limit_bytes",
    "restarts", "oom_kills", "throttled_periods", "periods", "throttled_s", "respawns",
    "phase", "ready", "stage",
)

RESOURCE_HISTORY_COLUMNS = ("ts", "source", "component", "pod", "container", "cpu_m", "memory_bytes")

CSV_FILES = {
    REQUESTS_CSV: REQUEST_COLUMNS,
    IMPORTS_CSV: IMPORT_COLUMNS,
    STREAMS_CSV: STREAM_COLUMNS,
    SESSIONS_CSV: SESSION_COLUMNS,
    PLAYS_CSV: PLAY_COLUMNS,
    RESOURCES_CSV: RESOURCE_COLUMNS,
}
OPTIONAL_CSV_FILES = {
    RESOURCE_HISTORY_CSV: RESOURCE_HISTORY_COLUMNS,
}
"""Files written only when asked for (``fwload report --history``); a run without them is complete."""

REQUEST_GROUPS = (
    "instance",   # nodeinfo, instance settings, rate-limit
    "auth",       # registration, app token creation, session login, users/me
    "library",    # library create / list
    "upload",     # upload POST
    "import_poll",  # polling the upload list while waiting for an import
    "browse",     # tracks / albums / artists lists and details
    "search",
    "listen",     # audio through listen_url
    "favorites",
    "playlists",
    "history",    # listening history
    "subsonic",
)

ERROR_KINDS = (
    "http",        # an HTTP error status not covered below (4xx/5xx)
    "timeout",     # no (complete) answer within the client timeout
    "connection",  # refused, reset, DNS, TLS: no HTTP answer at all
    "throttled",   # 429, or Funkwhale's throttled login (500 + X-RateLimit-Remaining: 0)
    "proxy",       # 502 / 503 / 504 from the reverse proxy
    "unexpected",  # an answer with an expected status but a body the user could not use
    "rejected",    # expected: the server refused a deliberately bad file (real 1.4: HTTP 500 for
                   # the corrupt mp3); like throttled, left out of the error ratio and latencies
)

SET_APART_KINDS = ("throttled", "rejected")
"""Error kinds that are not failures of the server: counted apart, left out of the error ratio."""

IMPORT_OUTCOMES = ("finished", "skipped", "errored", "timeout", "failed", "unfinished", "rejected")
"""``timeout``: still pending at the user's deadline; ``failed``: the upload or a poll
failed, so the import could not be followed; ``unfinished``: the run ended while the user
was still waiting (before its deadline); ``rejected``: the upload POST of a deliberately bad
file was refused, as real 1.4 refuses the corrupt mp3 (HTTP 500, nothing stored) — expected,
never a server error (the request's error kind is ``rejected`` too)."""

SESSION_OUTCOMES = ("completed", "cut", "failed", "dropped")
"""``completed``: lived its length or iterations; ``cut``: the run ended during it;
``failed``: it could not log in (the slot went back to idle); ``dropped``: never started."""

DROP_REASONS = ("no_slot", "generator_cpu", "late")
"""``no_slot``: no idle slot when it was due (raise ``load.arrivals.slots``);
``generator_cpu``: the generator process was above 90 % CPU; ``late``: the generator got
to it more than ``load.arrivals.max_start_delay`` after it was due."""

DELAYED_MS = 100.0
"""A started session whose start delay reaches this counts as *delayed* in the reports."""

PLAYBACK_MODES = ("realtime", "download")
"""``realtime``: played at the track's bitrate with a bounded read-ahead, as a browser does;
``download``: read at full speed (throughput tests)."""

PLAY_OUTCOMES = ("ended", "skipped", "seeked", "failed", "unfinished")
"""``ended``: played to the end; ``skipped``: the listener moved on before the end (a skip,
``listen_fraction`` or ``max_stream_bytes``); ``seeked``: the listener jumped within the
track at least once; ``failed``: an HTTP or network error ended it; ``unfinished``: the
test stopped during the play."""

EVENT_TYPES = (
    "run_start",         # {scenario, host, users, workers}
    "readiness",         # {ready: bool, seconds, detail, components: {...}}
    "startup_failure",   # {component, detail}: dead or never ready before the load
    "stage",             # {stage, users, spawn_rate}: the load shape moved to a new stage
    "restart",           # {component, pod, container, restarts, reason}
    "oom_kill",          # {component, pod, container, count, source}
    "respawn",           # {component, count, detail}: worker process replaced
    "throttled",         # {group, count, retry_after_s, scope}: 429s in the last second
    "abort",             # {rule, observed, detail}: an abort rule stopped the run
    "sessions_dropped",  # {count, reason, user_class}: arrivals dropped (sessions.csv has each one)
    "gap",               # {source, detail}: the collector could not sample
    "collector_notice",  # {source, detail}: something the collector cannot see, once
    "notice",            # {source, detail}: a pre-flight finding worth reading (throttling on, ...)
    "fault",             # {detail}: a fault injected on purpose into the local stand-in
    "stats_reset",       # the stats were reset from the web UI
    "worker_missing",    # {worker, detail}: a worker never delivered its final rows
    "user_stopped",      # {user_class, reason, count}: users that could not authenticate and stopped
    "interrupted",       # {detail}: the run was stopped before its end (Ctrl-C, SIGTERM, fwload gone)
    "refused",           # {detail, fix, exit_code}: the run was refused before its load (bad input)
    "run_end",           # {status, counts}
)

RUN_JSON_KEYS = (
    "format", "run_id", "status", "started_at", "ended_at", "host", "target",
    "scenario", "locust", "fwload_version", "collector", "machine", "readiness",
    "counts", "exit_code", "refusal", "resource_history",
)
"""``status``: one of `RUN_STATUSES`.
``counts``: rows written per CSV file, set when the run ends (a mismatch with the files
means the run directory was cut short).
``exit_code``: what the command that ran it exited with, written when it ends: the verdict's
code after every completed ``fwload run`` (and a plain Locust run that analyses when it
stops), 2 for refused input, 4 for a target never ready, 130 for Ctrl-C, 143 for SIGTERM.
``fwload report`` recomputes the verdict into verdict.json and its own exit code and leaves
run.json alone: run.json records the run, not a later re-analysis (with another ``--window``, say).
``refusal``: ``{problem, fix}`` when the status is ``refused``.
``collector``: the backend's description (`Collector.describe`); ``reason`` says why it was
chosen when it is ``none``; ``collected_after`` is set when ``fwload report --collect-from``
filled resources.csv after the run. ``resource_history``: ``{source, start, end, window_s,
step_s, rate_window_s, samples}`` of resource_history.csv, when fetched."""

RUN_STATUSES = (
    "running",      # the run has not ended (or was killed: nobody closed the directory)
    "complete",     # the scenario ran to its end
    "aborted",      # an abort rule stopped it early (judged: the rule is a broken SLO)
    "interrupted",  # stopped before its end: Ctrl-C, SIGTERM, or fwload gone (an incomplete run)
    "crashed",      # Locust ended before the run did (an incomplete run)
    "not_ready",    # the target never became ready; no load was sent
    "refused",      # bad input found once the target answered (credentials, registration)
)
INCOMPLETE_STATUSES = ("running", "interrupted", "crashed")
"""Statuses of a run that did not get to its end: its report can never pass."""
