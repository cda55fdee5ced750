"""The local stand-in of Funkwhale 1.4: the API subset fwload uses, with the real paths,
status codes, JSON shapes and quirks (funkwhale-api.md §11-12, the captured samples).

Embedded mode: one process (uvicorn + Starlette), SQLite, an in-process import worker
paced like Celery, audio served with Range support. `launcher.StandinProcess` runs it in a
subprocess for the demo and tests; `fwload standin` runs it in the foreground.
"""

from fwload.standin.settings import StandinSettings

__all__ = ["StandinSettings"]
