"""Funkwhale 1.4's throttling scopes and default rates: what the instance settings list and a storm shows.

Below both the API (which lists them) and the fault runtime (whose throttle storms answer with
their headers), so neither imports the other.
"""

from __future__ import annotations

THROTTLE_SCOPES = (
    ("anonymous-create", "1000/day", "Anonymous POST requests"),
    ("anonymous-destroy", "1000/day", "Anonymous DELETE requests on resource detail"),
    ("anonymous-list", "10000/day", "Anonymous GET requests on resource lists"),
    ("anonymous-oauth-app", "10/day", "Anonymous OAuth app creation"),
    ("anonymous-reports", "10/day", "Anonymous report submission"),
    ("anonymous-retrieve", "10000/day", "Anonymous GET requests on resource detail"),
    ("anonymous-update", "1000/day", "Anonymous PATCH and PUT requests on resource detail"),
    ("anonymous-wildcard", "1000/h", "Anonymous requests not covered by other limits"),
    ("authenticated-create", "1000/hour", "Authenticated POST requests"),
    ("authenticated-destroy", "500/hour", "Authenticated DELETE requests on resource detail"),
    ("authenticated-list", "10000/hour", "Authenticated GET requests on resource lists"),
    ("authenticated-oauth-app", "10/hour", "Authenticated OAuth app creation"),
    ("authenticated-reports", "100/day", "Authenticated report submission"),
    ("authenticated-retrieve", "10000/hour", "Authenticated GET requests on resource detail"),
    ("authenticated-update", "1000/hour", "Authenticated PATCH and PUT requests on resource detail"),
    ("authenticated-wildcard", "2000/h", "Authenticated requests not covered by other limits"),
    ("fetch", "200/d", "Fetch remote objects"),
    ("login", "30/hour", "Login"),
    ("oauth-authorize", "100/hour", "OAuth app authorization"),
    ("oauth-revoke-token", "100/hour", "OAuth token deletion"),
    ("oauth-token", "100/hour", "OAuth token creation"),
    ("password-change", "20/h", "Password change (when authenticated)"),
    ("password-reset", "20/h", "Password reset request"),
    ("password-reset-confirm", "20/h", "Password reset confirmation"),
    ("signup", "10/day", "Account creation"),
    ("subsonic", "2000/hour", "All subsonic API requests"),
    ("verify-email", "20/h", "Email address confirmation"),
)
