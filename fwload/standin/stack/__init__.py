"""Stack mode: the seed's components as real local processes, optionally inside their limits.

The embedded stand-in answers like Funkwhale from one process; stack mode runs the same
Starlette app the way Funkwhale 1.4 is deployed, so the suite meets what only a real
deployment shows (funkwhale-under-seed-limits.md):

- ``nginx`` (the system's) in front, serving audio from an ``internal`` location after the
  API's ``X-Accel-Redirect``, so Range, 206 and 416 come from nginx as for real;
- ``api``: gunicorn with uvicorn workers (2 by default, as measured);
- ``postgres``: a server it is pointed at (a throwaway database) or its own throwaway cluster;
- ``redis``: sessions, cache and the Celery broker;
- ``celery-worker`` (imports, ~1 task/s per worker) and ``celery-beat`` (periodic cleanup).

Each component is its own process group (and, when confined, its own cgroup that it joins
before its first instruction), so the processes collector can sample it by root PID and
read its memory charge, OOM kills and CPU throttling. `stack.Stack` starts and stops them;
`serve.serve_stack` is what ``fwload standin --mode stack`` runs.
"""
