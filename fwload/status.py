"""The exit codes of every fwload command, in one place (documented in the README)."""

from enum import IntEnum


class ExitStatus(IntEnum):
    SUCCESS = 0
    """Every SLO and resource check passed (or the command did what it was asked)."""
    SLO_BROKEN = 1
    """A latency or error-ratio SLO was broken."""
    USAGE_ERROR = 2
    """Bad input: a scenario, an option, a file, credentials, a host name that does not resolve."""
    RESOURCE_BROKEN = 3
    """A resource check (memory, CPU, restarts, OOM kills) was broken."""
    NOT_READY = 4
    """The target never became ready, or a component died before the load started."""
    INCOMPLETE = 5
    """The run did not reach its end (interrupted, killed, crashed) or its files were cut short:
    what was measured is reported, but nothing is judged passed."""
    INTERRUPTED = 130
    """Stopped with Ctrl-C (128 + SIGINT)."""
    TERMINATED = 143
    """Stopped by SIGTERM (128 + SIGTERM): ``timeout``, a cancelled CI job, a pod being stopped."""
