"""fwload's tabs in Locust's own web UI, and ``fwload ui`` that opens it.

The tabs (Resources, SLOs, Listeners, Imports and streams) are plain tables Locust's front end already
knows how to draw (``extended_tabs`` / ``extended_tables`` fed by ``extended_stats``), so
nothing here needs a front-end build. The plugin installs them only when a web UI exists
(`fwload.webui.install.install_tabs`); the table builders are Locust-free and read the
master's `fwload.recording.live` figures, which every worker's rows reach.
"""
