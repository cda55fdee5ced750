"""``gunicorn fwload.standin.stack.asgi:app``: the stand-in's app in each API worker.

Every worker builds its own services (database pool, Redis client, Celery producer) after
the fork. The schema and the admin account already exist (`Stack` made them once, like
Funkwhale's ``manage.py migrate`` before gunicorn starts), so workers booting side by side
never race to create them.
"""

from __future__ import annotations

from fwload.standin.app import build_app
from fwload.standin.services import Services
from fwload.standin.stack.environment import settings_from_environment

services = Services.build(settings_from_environment())
services.imports.start()
app = build_app(services, own_services=False)
