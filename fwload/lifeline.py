"""A child process's life tied to its parent's: a pipe the child watches, and the parent-death signal.

fwload starts Locust and the stand-in in sessions of their own, so that a terminal's Ctrl-C
reaches fwload alone, which then stops them in order. When fwload dies without cleaning up
(SIGKILL, an OOM kill, a cancelled CI runner), nothing would stop them: Locust would keep
loading the target until the scenario ends and the stand-in would keep its folder, cgroups
and database. Two mechanisms close that gap, because each misses cases the other covers:

- The **lifeline**: a pipe whose write end only the parent holds. The child watches the read
  end; end-of-file means every holder of the write end is gone, whatever killed it, whichever
  thread started the child, on any POSIX system, and also in the child's own forks (Locust's
  ``--processes`` workers), which inherit the read end. The parent writes `STOP` on it to
  ask for a clean stop (Locust's ``SIGTERM`` handler is not installed during a shape run).
- ``PR_SET_PDEATHSIG`` (Linux): the kernel signals the child the moment the parent thread
  exits, even when the child is too busy to read a pipe. The command runs through this file
  (``python -I -S lifeline.py --parent PID --signal N -- ARGV``), which sets it and then
  ``exec``\\ s the command, instead of a ``preexec_fn`` (unsafe in a parent with threads). It
  is only asked for from the main thread: the signal follows the *thread* that forked, so a
  child started by a worker thread would die when that thread ends.

Standard library only: the wrapper runs without site-packages, and the stand-in imports this.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

FD_ENV = "FWLOAD_LIFELINE_FD"
"""Environment variable naming the read end's file descriptor in the child."""
STOP = b"s"
"""What the parent writes to ask for a clean stop."""
PR_SET_PDEATHSIG = 1
EXIT_PARENT_GONE = 125


def can_set_death_signal() -> bool:
    """Linux, and the calling thread is the main one (the signal follows the thread that forks)."""
    return sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread()


def wrapped(argv: Sequence[str], death_signal: int | None) -> list[str]:
    """``argv`` run through the wrapper that sets ``death_signal`` first, when that is possible."""
    if death_signal is None or not can_set_death_signal():
        return list(argv)
    return [sys.executable, "-I", "-S", os.path.abspath(__file__), "--parent", str(os.getpid()),
            "--signal", str(int(death_signal)), "--", *argv]


class Lifeline:
    """The parent's end: ``lifeline.spawn(argv, ...)`` starts one child tied to this process.

    The write end stays open (non-inheritable, so no other child holds it) until `cut` or
    this process's death; the child's end is closed here as soon as the child has it.
    """

    def __init__(self) -> None:
        self._read, self._write = os.pipe()

    def spawn(self, argv: Sequence[str], *, death_signal: int | None = signal.SIGTERM,
              env: dict[str, str] | None = None, pass_fds: Sequence[int] = (),
              **popen: Any) -> subprocess.Popen[Any]:
        """`subprocess.Popen` of ``argv`` with the read end and its number (`FD_ENV`) passed down."""
        if self._read < 0:
            raise RuntimeError("a lifeline ties one child; make a new one")
        child_env = dict(os.environ if env is None else env)
        child_env[FD_ENV] = str(self._read)
        try:
            return subprocess.Popen(wrapped(argv, death_signal), env=child_env,
                                    pass_fds=(*pass_fds, self._read), **popen)
        finally:
            os.close(self._read)
            self._read = -1

    def request_stop(self) -> bool:
        """Ask the child to stop cleanly; False when it is already gone."""
        if self._write < 0:
            return False
        try:
            os.write(self._write, STOP)
        except OSError:  # BrokenPipeError: the child (and every fork of it) closed its end
            return False
        return True

    def cut(self) -> None:
        """Close the write end: the child sees end-of-file, as if this process had died."""
        for name in ("_read", "_write"):
            fd = getattr(self, name)
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, -1)


# -- the child's end ------------------------------------------------------------------------


def take() -> int | None:
    """The read end this process was given, or None; removed from the environment, so that
    this process's own children do not take a descriptor number they were never given."""
    text = os.environ.pop(FD_ENV, "")
    if not text.isdigit():
        return None
    fd = int(text)
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return None
    except OSError:
        return None
    return fd


def read_request(fd: int) -> str | None:
    """Without blocking: ``"gone"`` (the parent is gone), ``"stop"`` (asked to stop) or None.

    It consumes what it reads: call it in one process only (Locust's master, not its workers).
    """
    os.set_blocking(fd, False)
    try:
        data = os.read(fd, 64)
    except BlockingIOError:
        return None
    if not data:
        return "gone"
    return "stop" if STOP in data else None


def hung_up(fd: int, poll: Callable[[], Any] | None = None) -> bool:
    """Whether every writer closed, without reading (forks that share the read end use this).

    ``poll``: the real ``select.poll`` in a process where gevent has patched it.
    """
    poller = (poll or select.poll)()
    poller.register(fd, select.POLLHUP)
    return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))


def wait_until_gone(fd: int) -> None:
    """Block until the parent is gone (stop requests are ignored: this child stops on SIGTERM)."""
    os.set_blocking(fd, True)
    while True:
        try:
            if not os.read(fd, 64):
                return
        except InterruptedError:
            continue
        except OSError:
            return


def watch_in_thread(on_gone: Callable[[], None]) -> bool:
    """Call ``on_gone`` from a daemon thread once the parent is gone; False without a lifeline."""
    fd = take()
    if fd is None:
        return False

    def watch() -> None:
        wait_until_gone(fd)
        on_gone()

    threading.Thread(target=watch, name="fwload-lifeline", daemon=True).start()
    return True


def set_death_signal(signum: int) -> bool:
    """``PR_SET_PDEATHSIG`` for the calling process (Linux); False where it does not exist."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0


def _exec(args: list[str]) -> None:
    """The wrapper: set the parent-death signal, make sure the parent did not die meanwhile, exec."""
    parent, signum = None, int(signal.SIGTERM)
    while args and args[0] != "--":
        flag, value, args = args[0], args[1] if len(args) > 1 else "", args[2:]
        if flag == "--parent" and value.isdigit():
            parent = int(value)
        elif flag == "--signal" and value.isdigit():
            signum = int(value)
        else:
            sys.stderr.write(f"lifeline: bad option {flag} {value}\n")
            sys.exit(2)
    argv = args[1:]
    if not argv:
        sys.stderr.write("lifeline: no command after --\n")
        sys.exit(2)
    set_death_signal(signum)
    if parent is not None and os.getppid() != parent:
        sys.exit(EXIT_PARENT_GONE)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    _exec(sys.argv[1:])
