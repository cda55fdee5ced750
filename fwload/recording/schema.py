"""The run directory format: the contract between running a test and analysing it.

A run directory (``reports/<run-id>/``) is written while the test runs and read, alone,
by the analysis. Its measurement tables are defined once, below, in `TABLES`: one `Table`
entry per table (name, columns, kinds, units). The writer (`fwload.recording.rundir`), the
workers -> master drain (`fwload.recording.recorder`), the loader (`analysis.load`) and
``fwload export --csv`` all iterate over `TABLES`, so a new table is one entry here plus
its attribute in the loader. ``help(fwload.recording.schema)`` lists every column.

Times are Unix epoch seconds (float, UTC). Latencies are **milliseconds** as measured
(never rounded). Sizes are bytes. CPU is millicores. A null (an empty CSV field) means
"not known"; text columns use "" instead of null.

How the tables are stored (format ``fwload-run/2``)
---------------------------------------------------
While a run goes, each table is an **Arrow IPC stream** (``<table>.<n>.arrows``): one
record batch per flush (about once a second), each buffer zstd-compressed. A stream is
readable message by message, so a process killed with SIGKILL leaves every batch up to its
last complete flush readable; the batch it was writing, if any, is a *torn tail*. A
Parquet file, by contrast, is unreadable until its footer is written at close, so Parquet
is only written at the end: a clean close (`RunDirectory.finalize`, also run by
``fwload run`` after a crashed Locust) **compacts** every table into ``<table>.parquet``
(zstd, dictionary-encoded categories, row groups of about a million rows), atomically
(written aside, then renamed), and then removes the streams it absorbed. Parquet is the
artifact worth keeping: columnar, about 4x smaller than the stream, read in parallel.

Each process that writes a table writes its own stream *segment* (``requests.1.arrows``,
``requests.2.arrows``, ... in the order they were created): a stream cannot be resumed by
another writer. The Parquet file records the highest segment it absorbed (key
``fwload.segments`` of its metadata), so a compaction killed between the rename and the
removal never counts a row twice.

A reader (`fwload.recording.columnar.read_table`) takes ``<table>.parquet`` when present,
then every segment numbered above what it absorbed, in order. In a segment it keeps each
complete batch and stops at the first one that cannot be read: a torn tail is dropped,
and the loader reports the run as partial ("the last batch was cut off mid-write"). A
table with neither file reads as zero rows. A column a file lacks (written before the
column existed) reads as nulls.

Run directories of format ``fwload-run/1`` hold the same tables as CSV files
(``<table>.csv``: a header of the column names, one row per line, empty = not known).
They are still read (`READ_FORMATS`), and ``fwload export --csv RUN_DIR`` writes that
layout from a ``fwload-run/2`` directory for tools that want CSV.

Files
-----
``run.json``
    Metadata, no secrets: see `RUN_JSON_KEYS`. ``status`` is ``running`` until the run ends
    (`RUN_STATUSES`); a run directory still saying ``running`` after the fact is a truncated run.
``scenario.yaml``
    The resolved scenario (passwords and tokens masked).
``<table>.parquet`` / ``<table>.<n>.arrows``
    The measurement tables of `TABLES` (``requests``, ``imports``, ``streams``, ``plays``,
    ``sessions``, ``resources``, and ``resource_history`` when fetched), stored as described above.
``events.jsonl``
    One JSON object per line: ``{"ts": ..., "type": ..., ...}``; types in `EVENT_TYPES`.
    A cut last line is skipped (and reported) by the reader. Events a collector added after
    the run (``fwload report --collect-from``) carry ``"collected_after": true``.
``locust/``
    Locust's own CSV, HTML and JSON outputs.
``progress.json``
    Live figures rewritten every second while the run goes (for progress lines); not data.
``verdict.json``, ``junit.xml``, ``summary.md``, ``report.html``
    Written by the analysis (``fwload report``).
``<table>.csv``
    Only in ``fwload-run/1`` directories, or written on request by ``fwload export --csv``.

Adding a table
--------------
Append a `Table` to `TABLES` (its name, a docstring, its `Column` entries: name, kind from
`KINDS`, unit, meaning). Give `analysis.load.Run` an attribute of the same name and list
the columns the analysis reads in `analysis.load.ANALYSIS_COLUMNS` (a table not listed
there is read whole). Rows reach it with ``RunDirectory.append_rows("<name>", rows)``
(tuples in column order); rows recorded by Locust users go through the recorder: add the
name to ``fwload.recording.recorder._KINDS`` (buffered, sent from workers to the master,
drained and counted exactly like requests) and fill ``Recorder.buffers["<name>"]`` from an
event hook. The writer, the compaction, the loader and ``fwload export --csv`` pick the
new table up from `TABLES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fwload.common.requests import REQUEST_GROUPS  # noqa: F401  (the ``group`` column's values)

FORMAT = "fwload-run/2"
"""The format this version writes."""
READ_FORMATS = ("fwload-run/1", FORMAT)
"""Formats this version reads: ``/1`` is the CSV layout, ``/2`` the Arrow/Parquet one."""

RUN_JSON = "run.json"
SCENARIO_YAML = "scenario.yaml"
EVENTS_JSONL = "events.jsonl"
LOCUST_DIR = "locust"
PROGRESS_JSON = "progress.json"
PARQUET_SEGMENTS_KEY = "fwload.segments"
"""Parquet key-value metadata: the highest stream segment number the file absorbed."""


@dataclass(frozen=True)
class Kind:
    """How a column is stored on disk and what it holds."""

    arrow: str
    """Arrow type alias on disk (``category`` is a dictionary of strings in Parquet, plain
    strings in the stream)."""
    meaning: str


KINDS: dict[str, Kind] = {
    "time": Kind("float64", "seconds since the Unix epoch, UTC"),
    "float": Kind("float64", "a measured value, in the column's unit; null = not known"),
    "integer": Kind("int64", "a whole number (count, size, id); null = not known"),
    "code": Kind("int32", "a numeric code (HTTP status); null = not known"),
    "category": Kind("category", 'one of few distinct strings ("" = none)'),
    "text": Kind("string", 'free text or an identifier ("" = none)'),
    "flag": Kind("bool", "true / false; null = not known"),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    """A key of `KINDS`."""
    unit: str
    """``s``, ``ms``, ``bytes``, ``millicores``, ... ("" when the value has none)."""
    doc: str


@dataclass(frozen=True)
class Table:
    """One measurement table of the run directory."""

    name: str
    doc: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    @property
    def parquet_name(self) -> str:
        return f"{self.name}.parquet"

    def segment_name(self, number: int) -> str:
        return f"{self.name}.{number}.arrows"

    @property
    def csv_name(self) -> str:
        """The file of the ``fwload-run/1`` layout and of ``fwload export --csv``."""
        return f"{self.name}.csv"


def _columns(*rows: tuple[str, str, str, str]) -> tuple[Column, ...]:
    for row in rows:
        if row[1] not in KINDS:
            raise ValueError(f"column {row[0]}: unknown kind {row[1]!r}")
    return tuple(Column(*row) for row in rows)


_USER_COLUMNS = (
    ("user_class", "category", "", "the Locust user class name"),
    ("worker", "category", "", '"local", or the Locust worker index for distributed runs'),
)

REQUESTS = Table(
    "requests",
    "One row per HTTP request any virtual user made.",
    _columns(
        ("ts", "time", "s", "request start"),
        ("group", "category", "", "request group (`REQUEST_GROUPS`), e.g. ``browse``"),
        ("name", "category", "", "Locust's request name (path template), e.g. ``/api/v1/tracks/``"),
        ("method", "category", "", "HTTP method"),
        ("status", "code", "", "HTTP status, 0 when no response arrived"),
        ("response_ms", "float", "ms", "exact response time, whole body read; for the audio of a ``realtime`` "
                                       "play, the time to the first body byte (its body is read as it plays)"),
        ("bytes", "integer", "bytes", "response body bytes received"),
        ("error_kind", "category", "", '"" when the request succeeded, else one of `ERROR_KINDS`'),
        ("error", "category", "", 'short error text ("" when ok); never contains credentials'),
        *_USER_COLUMNS,
    ),
)
IMPORTS = Table(
    "imports",
    "One row per upload whose import was waited for.",
    _columns(
        ("ts", "time", "s", "when the upload POST was answered 201 (the import was accepted), or refused / failed"),
        ("upload", "text", "", 'upload uuid ("" when the POST itself failed or was refused)'),
        ("outcome", "category", "", "one of `IMPORT_OUTCOMES`"),
        ("wait_ms", "float", "ms", "accepted -> final status seen (or -> giving up, for ``timeout``)"),
        ("polls", "integer", "", "list polls made while waiting"),
        ("fixture", "category", "", "the kind of file uploaded: ``valid`` or a deliberate bad kind "
                                    "(``untagged``, ``no_artist``, ``corrupt``, ``duplicate``)"),
        ("format", "category", "", "file extension (mp3, ogg, flac)"),
        ("bytes", "integer", "bytes", "uploaded file size"),
        *_USER_COLUMNS,
    ),
)
STREAMS = Table(
    "streams",
    "One row per audio fetch through a listen URL.",
    _columns(
        ("ts", "time", "s", "request start"),
        ("track", "integer", "", "track id (as in the API)"),
        ("status", "code", "", "HTTP status (200, 206, ...)"),
        ("ttfb_ms", "float", "ms", "time to the first body byte"),
        ("total_ms", "float", "ms", "time to the last body byte"),
        ("bytes", "integer", "bytes", "body bytes read"),
        ("range", "category", "", 'the first Range header sent ("" for none), e.g. ``bytes=0-`` (a browser\'s '
                                  "progressive download) or ``bytes=0-262143`` (``download``)"),
        ("error_kind", "category", "", "as in requests"),
        ("transcode", "category", "", 'what the play asked the server to transcode to ("" for the original '
                                      "file): ``ogg``, ``ogg@128`` (format and bitrate cap in kbps), ``@128``"),
        *_USER_COLUMNS,
    ),
)
PLAYS = Table(
    "plays",
    "One row per play: what the listener heard (`fwload.playback.clock` has the rules). Stall and "
    "start-up figures are exact, computed from when bytes arrived against the playback clock; a "
    "``download`` play has no playback clock and leaves stalls, stall_ms, seek_wait_ms and played_s null.",
    _columns(
        ("ts", "time", "s", "the first audio request was sent"),
        ("track", "integer", "", "track id (as the client knows it: the v1 API's or Subsonic's id)"),
        ("client", "category", "", "who played: ``web`` (the Funkwhale web player), ``subsonic`` (an app)"),
        ("playback", "category", "", "one of `PLAYBACK_MODES`"),
        ("transcode", "category", "", 'the format asked for (``to=``), "" for the original file'),
        ("startup_ms", "float", "ms", "request -> enough audio buffered to start (null when it never started)"),
        ("stalls", "integer", "", "times the buffer ran dry before the stop point"),
        ("stall_ms", "float", "ms", "total time stalled (a stall still going at the end counts up to it)"),
        ("seek_wait_ms", "float", "ms", "total wait after seeks to positions not buffered"),
        ("played_s", "float", "s", "audio played"),
        ("duration_s", "float", "s", "the track's duration, as the player used it"),
        ("bytes", "integer", "bytes", "audio bytes received"),
        ("requests", "integer", "", "HTTP requests the play made (1 unless it seeked or reconnected)"),
        ("outcome", "category", "", "one of `PLAY_OUTCOMES`"),
        ("error_kind", "category", "", 'as in requests ("" unless ``failed``)'),
        ("gaps", "text", "", "the stalls and seek waits, space-separated ``stall@OFFSET+SECONDS`` or "
                             '``seek@OFFSET+SECONDS``, OFFSET in seconds after ts ("" for none)'),
        *_USER_COLUMNS,
    ),
)
SESSIONS = Table(
    "sessions",
    "One row per session an arrivals run (``load.profile: arrivals``) asked for, started or not; "
    "empty in other runs.",
    _columns(
        ("intended_ts", "time", "s", "when the session was due (the arrival schedule's instant)"),
        ("start_ts", "time", "s", "when a slot started it (null when dropped)"),
        ("start_delay_ms", "float", "ms", "start_ts - intended_ts: the generator's own lateness (null when "
                                          "dropped); never added to requests' response_ms"),
        ("first_ms", "float", "ms", "intended_ts -> the session's first answer: the wait a person arriving "
                                    "at intended_ts felt, start delay included (coordinated omission corrected)"),
        ("length_s", "float", "s", "the session length drawn for it (null when only iterations end it)"),
        ("ended_ts", "time", "s", "when it ended (null when it never started)"),
        ("iterations", "integer", "", "task iterations it ran"),
        ("outcome", "category", "", "one of `SESSION_OUTCOMES`"),
        ("reason", "category", "", "why it was dropped (`DROP_REASONS`), cut (``run_end``) or failed "
                                   '(``login``); "" when completed'),
        *_USER_COLUMNS,
    ),
)
RESOURCES = Table(
    "resources",
    "One row per container (or local process group) per collector sample.",
    _columns(
        ("ts", "time", "s", "sampling time"),
        ("source", "category", "", "``kubernetes`` | ``processes`` | ``host`` | ``prometheus``"),
        ("component", "category", "", "the Funkwhale component (api, celery-worker, ...)"),
        ("pod", "category", "", "pod name (or the local process group)"),
        ("container", "category", "", "container name"),
        ("node", "category", "", "node name, when known"),
        ("cpu_m", "float", "millicores", "CPU use over the last interval"),
        ("memory_bytes", "float", "bytes", "memory the limit is compared with (working set / memcg charge)"),
        ("memory_anon_bytes", "float", "bytes", "the part that cannot be reclaimed (anonymous / RSS), if known"),
        ("memory_peak_bytes", "float", "bytes", "peak charge since start, if known (cgroup max usage)"),
        ("cpu_request_m", "float", "millicores", "live CPU request (null when none is set)"),
        ("cpu_limit_m", "float", "millicores", "live CPU limit (null when none is set)"),
        ("memory_request_bytes", "float", "bytes", "live memory request (null when none is set)"),
        ("memory_limit_bytes", "float", "bytes", "live memory limit (null when none is set)"),
        ("restarts", "integer", "", "container restart count (cumulative)"),
        ("oom_kills", "integer", "", "OOM kills seen for this container (cumulative)"),
        ("throttled_periods", "integer", "", "CFS periods throttled (cumulative), if known"),
        ("periods", "integer", "", "CFS periods (cumulative), if known"),
        ("throttled_s", "float", "s", "time throttled (cumulative), if known"),
        ("respawns", "integer", "", "worker processes that replaced a dead one (cumulative)"),
        ("phase", "category", "", "pod phase"),
        ("ready", "flag", "", "container readiness"),
        ("stage", "category", "", "the load stage at sampling time"),
    ),
)
RESOURCE_HISTORY = Table(
    "resource_history",
    "Usage over a longer window than the run, for right-sizing only (``fwload report --history 7d``); "
    "its window, step and source are in run.json ``resource_history``.",
    _columns(
        ("ts", "time", "s", "the step's time"),
        ("source", "category", "", "``prometheus``"),
        ("component", "category", "", "the Funkwhale component"),
        ("pod", "category", "", "pod name"),
        ("container", "category", "", "container name"),
        ("cpu_m", "float", "millicores", "CPU use, averaged over the rate window"),
        ("memory_bytes", "float", "bytes", "working set: the peak within each step when the step spans "
                                           "several scrapes, else the value at the step"),
    ),
)

TABLES: dict[str, Table] = {table.name: table for table in (REQUESTS, IMPORTS, STREAMS, PLAYS, SESSIONS,
                                                             RESOURCES, RESOURCE_HISTORY)}
"""Every measurement table, by name, in the order they are written and listed."""
OPTIONAL_TABLES = frozenset({RESOURCE_HISTORY.name})
"""Tables written only when asked for (``fwload report --history``): a run without them is
complete, and a run directory does not get an empty one."""


def table_named(name: str) -> Table:
    """The table called ``name`` (``requests.csv``, the CSV file name, is accepted too)."""
    try:
        return TABLES[name.removesuffix(".csv")]
    except KeyError:
        raise KeyError(f"no table {name!r} in the run directory schema (tables: {', '.join(TABLES)})") from None


# The names the CSV layout used; still the names of `fwload export --csv` files.
(REQUESTS_CSV, IMPORTS_CSV, STREAMS_CSV, PLAYS_CSV, SESSIONS_CSV, RESOURCES_CSV,
 RESOURCE_HISTORY_CSV) = (t.csv_name for t in TABLES.values())
REQUEST_COLUMNS = REQUESTS.column_names
IMPORT_COLUMNS = IMPORTS.column_names
STREAM_COLUMNS = STREAMS.column_names
PLAY_COLUMNS = PLAYS.column_names
SESSION_COLUMNS = SESSIONS.column_names
RESOURCE_COLUMNS = RESOURCES.column_names
RESOURCE_HISTORY_COLUMNS = RESOURCE_HISTORY.column_names
CSV_FILES = {table.csv_name: table.column_names for table in TABLES.values() if table.name not in OPTIONAL_TABLES}
"""CSV file name -> columns, for the ``fwload-run/1`` layout and ``fwload export --csv``."""
OPTIONAL_CSV_FILES = {t.csv_name: t.column_names for t in TABLES.values() if t.name in OPTIONAL_TABLES}
"""CSV files written only when asked for; a run without them is complete."""


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
``counts``: rows written per table (keyed by table name; ``requests.csv`` ... in
``fwload-run/1``), set when the run ends (a mismatch with the files means the run directory
was cut short).
``exit_code``: what the command that ran it exited with, written when it ends: the verdict's
code after every completed ``fwload run`` (and a plain Locust run that analyses when it
stops), 2 for refused input, 4 for a target never ready, 130 for Ctrl-C, 143 for SIGTERM.
``fwload report`` recomputes the verdict into verdict.json and its own exit code and leaves
run.json alone: run.json records the run, not a later re-analysis (with another ``--window``, say).
``refusal``: ``{problem, fix}`` when the status is ``refused``.
``collector``: the backend's description (`Collector.describe`); ``reason`` says why it was
chosen when it is ``none``; ``collected_after`` is set when ``fwload report --collect-from``
filled the resources table after the run. ``resource_history``: ``{source, start, end,
window_s, step_s, rate_window_s, samples}`` of the resource_history table, when fetched."""

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


def _describe() -> str:
    lines = ["", "Tables", "------"]
    for table in TABLES.values():
        optional = " (optional)" if table.name in OPTIONAL_TABLES else ""
        lines.append(f"``{table.name}``{optional}  ({table.doc})")
        for column in table.columns:
            unit = f" [{column.unit}]" if column.unit else ""
            lines.append(f"      {column.name:<21} {column.kind}{unit}: {column.doc}")
    lines += ["", "Kinds: " + "; ".join(f"{name} = {kind.meaning} ({kind.arrow})" for name, kind in KINDS.items())]
    return "\n".join(lines) + "\n"


__doc__ = (__doc__ or "") + _describe()
