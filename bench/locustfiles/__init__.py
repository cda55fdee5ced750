"""Locustfiles the benchmarks run as child processes (never imported by ``python -m bench`` itself)."""
