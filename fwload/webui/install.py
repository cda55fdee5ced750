"""Plugging the tabs into Locust's web UI (its Flask app), on the master or a local runner.

Called by the plugin only ``if environment.web_ui`` (workers and headless runs have none),
so the engine never imports this module otherwise. It uses Locust's documented extension
points: template arguments for the tabs and CSV links, ``extended_stats`` added to each
``/stats/requests`` answer, and a blueprint for the downloads. Locust's own "reset stats"
fires ``reset_stats``, which the session and the tracker both follow. A start form naming a
scenario that does not load is answered like Locust answers a bad user count: the form
shows the problem and its fix, and no test starts. The form's user count, ramp up and run
time open with the scenario's values, and a changed one overrides it (`fwload.webui.form`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, make_response, request

from fwload.errors import FwloadError
from fwload.scenario.loader import load_scenario, with_overrides
from fwload.webui.form import Prefill
from fwload.webui.flows import FlowTracker
from fwload.webui.tables import (
    HISTORY_JSON,
    HISTORY_SCRIPT,
    RESOURCES_CSV,
    SLOS_CSV,
    URL_PREFIX,
    LiveTables,
    template_args,
)

SCRIPT = Path(__file__).resolve().with_name("static") / HISTORY_SCRIPT


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

    @downloads.route("/" + HISTORY_JSON)
    @web_ui.auth_required_if_enabled
    def resource_history() -> Response:
        return jsonify(tables.resource_history())

    @downloads.route("/" + HISTORY_SCRIPT)
    def resource_history_script() -> Response:
        response = make_response(SCRIPT.read_text(encoding="utf-8"))
        response.headers["Content-Type"] = "text/javascript; charset=utf-8"
        return response

    web_ui.app.register_blueprint(downloads)

    prefill = _prefill(environment.parsed_options)

    @web_ui.app.before_request
    def check_start_form() -> Response | None:
        if request.method != "POST" or request.path != base + "/swarm" or session.active:
            return None
        picked = request.form.get("scenario") or getattr(environment.parsed_options, "scenario", "")
        try:
            changes = prefill.changes(request.form) if prefill is not None else {}
            if picked:
                with_overrides(load_scenario(picked), **changes)
        except FwloadError as error:
            message = f"{error.problem} (fix: {error.fix})" if error.fix else error.problem
            return jsonify({"success": False, "message": message, "host": environment.host})
        session.prepare_next_test()
        session.form_overrides = changes
        return None

    @web_ui.app.after_request
    def keep_prefill(response: Response) -> Response:
        """Locust stores the posted values as its options; the page must open with the scenario's again."""
        if prefill is not None and request.method == "POST" and request.path == base + "/swarm":
            prefill.show(environment.parsed_options)
        return response

    @web_ui.app.after_request
    def add_history_script(response: Response) -> Response:
        """Locust's page is one React bundle with no hook for a chart: a small script of ours, served
        here (no CDN), draws the Resources tab's history under its table."""
        if request.path != base + "/" or response.mimetype != "text/html" or response.direct_passthrough:
            return response
        page = response.get_data(as_text=True)
        tag = f'<script defer src=".{URL_PREFIX}/{HISTORY_SCRIPT}"></script>'
        if "</body>" in page and tag not in page:
            response.set_data(page.replace("</body>", tag + "\n</body>", 1))
        return response

    @web_ui.app.after_request
    def add_tables(response: Response) -> Response:
        if request.path != base + "/stats/requests" or not response.is_json:
            return response
        answer = response.get_json()
        answer["extended_stats"] = tables.extended_stats()
        response.set_data(json.dumps(answer))
        return response

    return tables


def _prefill(options: Any) -> Prefill | None:
    """Show the preselected scenario's users, spawn rate and duration in the start form."""
    try:
        scenario = load_scenario(options.scenario) if getattr(options, "scenario", "") else None
    except FwloadError:
        return None  # the form names the problem when a test is started
    if scenario is None:
        return None
    prefill = Prefill.of(scenario)
    prefill.show(options)
    return prefill


def _csv_download(text: str, what: str) -> Response:
    response = make_response(text)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f"attachment;filename=fwload_{what}_{time.strftime('%Y%m%d-%H%M%S')}.csv"
    return response
