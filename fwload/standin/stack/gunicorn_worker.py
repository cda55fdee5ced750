"""The gunicorn worker class of the API: uvicorn's, without uvicorn's own ``server`` header.

gunicorn loads this class in its master, before any worker forks, so the module holds
nothing else (the app is built in each worker, by `fwload.standin.stack.asgi`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker


class StandinWorker(UvicornWorker):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {**UvicornWorker.CONFIG_KWARGS, "server_header": False}
