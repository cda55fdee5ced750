"""Join a component's cgroups, drop to its user, then become the component (``exec``).

Run as ``python -I -S exec_in_cgroup.py [--join FILE]... [--user NAME] [--parent PID] -- ARGV``.
It imports nothing from fwload (run without site-packages it costs a few MiB, released at
``exec``), so a component is inside its limits from its first instruction: moving a running
process into a cgroup leaves the memory it holds charged elsewhere and gives a false
"it fits" (funkwhale-under-seed-limits.md §2). Daemons the component forks (PostgreSQL
backends, nginx and gunicorn workers, the Celery pool) inherit the cgroup.

The cgroups are joined while still root (writing ``cgroup.procs`` needs it); the user is
dropped after; the parent-death signal is set last, since a change of user clears it. If
the stand-in that started this is killed outright (SIGKILL, no clean-up), the kernel then
kills the component's root process; workers it forked (nginx's, gunicorn's) may outlive it.
"""

import ctypes
import os
import pwd
import signal
import sys

PR_SET_PDEATHSIG = 1
EXIT_SETUP_FAILED = 125


def _fail(message: str) -> None:
    sys.stderr.write(f"exec_in_cgroup: {message}\n")
    sys.exit(EXIT_SETUP_FAILED)


def main(args: list[str]) -> None:
    joins, user, parent = [], None, None
    while args and args[0] != "--":
        flag, value, args = args[0], args[1] if len(args) > 1 else None, args[2:]
        if value is None:
            _fail(f"{flag} needs a value")
        if flag == "--join":
            joins.append(value)
        elif flag == "--user":
            user = value
        elif flag == "--parent":
            parent = int(value)
        else:
            _fail(f"unknown option {flag}")
    argv = args[1:]
    if not argv:
        _fail("no command after --")
    for procs in joins:
        try:
            with open(procs, "w") as file:
                file.write(str(os.getpid()))
        except OSError as error:
            _fail(f"cannot join {procs}: {error.strerror}")
    if user is not None:
        entry = pwd.getpwnam(user)
        os.initgroups(user, entry.pw_gid)
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
        os.environ.update(HOME=entry.pw_dir, USER=user, LOGNAME=user)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        _fail("the stand-in that started this component is gone")
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        _fail(f"cannot run {argv[0]}: {error.strerror}")


if __name__ == "__main__":
    main(sys.argv[1:])
