"""Funkwhale load test: listeners, Subsonic apps and uploaders, with fwload's scenarios and recording.

    locust -f locustfiles/funkwhale.py --host https://funkwhale.example --headless -u 10 -r 5 -t 30s
    locust -f locustfiles/funkwhale.py --scenario scenarios/smoke.yaml --headless
"""

from fwload.plugin import FwloadShape
from fwload.users.listener import Listener
from fwload.users.subsonic import SubsonicListener
from fwload.users.uploader import Uploader

__all__ = ["FwloadShape", "Listener", "SubsonicListener", "Uploader"]
