"""Credentials: password hashing and rules, tokens (app, session, CSRF, listen)."""
