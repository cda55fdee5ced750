"""Funkwhale 1.4's Subsonic API (``/api/subsonic/rest/<method>[.view]``; nginx maps ``/rest/``).

The methods a Subsonic app uses to browse and play, with the real server's answer shapes
(samples 57-63; where no sample shows a shape, the Funkwhale source named in each module).
"""
