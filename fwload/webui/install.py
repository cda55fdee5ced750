"""Plugging the tabs into Locust's web UI (its Flask app), on the master or a local runner.

Called by the plugin only ``if environment.web_ui`` (workers and headless runs have none),
so the engine never imports this module otherwise. It uses Locust's documented extension
points: template arguments for the tabs and CSV links, ``extended_stats`` added to each
``/stats/requests`` answer, and a blueprint for the downloads. Locust's own "reset stats"
fires ``reset_stats``, which the session and the tracker both follow. A start form naming a
scenario that does not load is answered like Locust answers a bad user count: the form
shows the problem and its fix, and no test starts.
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, Response, jsonify, make_response, request

from fwload.errors import FwloadError
from fwload.scenario.loader import load_scenario
from fwload.webui.flows import FlowTracker
from fwload.webui.tables import RESOURCES_CSV, SLOS_CSV, URL_PREFIX, LiveTables, template_args


def install_tabs(environment: Any) -> LiveTables:
    """Add the Resources, SLOs, Listeners and Imports-and-streams tabs to ``environment.web_ui``."""
    web_ui = environment.web_ui
    session = environment.fwload
    tracker = FlowTracker()
    session.recorder.on_rows.append(tracker.on_rows)
    environment.events.reset_stats.add_listener(lambda **_kwargs: tracker.reset_stats())
    environment.events.test_start.add_listener(lambda **_kwargs: tracker.new_test())
    tables = LiveTables(session, tracker)
    web_ui.template_args.update(template_args())

    base = (getattr(environment.parsed_options, "web_base_path", "") or "").rstrip("/")
    downloads = Blueprint("fwload", __name__, url_prefix=base + URL_PREFIX)

    @downloads.route("/" + RESOURCES_CSV)
    @web_ui.auth_required_if_enabled
    def resources_csv() -> Response:
        return _csv_download(tables.resources_csv(), "resources")

    @downloads.route("/" + SLOS_CSV)
    @web_ui.auth_required_if_enabled
    def slos_csv() -> Response:
        return _csv_download(tables.slos_csv(), "slos")

    web_ui.app.register_blueprint(downloads)

    @web_ui.app.before_request
    def check_start_form() -> Response | None:
        if request.method != "POST" or request.path != base + "/swarm" or session.active:
            return None
        picked = request.form.get("scenario")
        if picked:
            try:
                load_scenario(picked)
            except FwloadError as error:
                message = f"{error.problem} (fix: {error.fix})" if error.fix else error.problem
                return jsonify({"success": False, "message": message, "host": environment.host})
        session.prepare_next_test()
        return None

    @web_ui.app.after_request
    def add_tables(response: Response) -> Response:
        if request.path != base + "/stats/requests" or not response.is_json:
            return response
        answer = response.get_json()
        answer["extended_stats"] = tables.extended_stats()
        response.set_data(json.dumps(answer))
        return response

    return tables


def _csv_download(text: str, what: str) -> Response:
    response = make_response(text)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f"attachment;filename=fwload_{what}_{time.strftime('%Y%m%d-%H%M%S')}.csv"
    return response
