"""fwload's benchmarks: what fwload costs on top of Locust, and how it scales.

``python -m bench`` runs every benchmark on loopback, bounded in time, and prints a table of
ratios measured side by side in the same run (absolute figures vary by machine; ratios are
what we compare between machines and commits). ``--quick`` uses tiny sizes so a smoke test
can run every benchmark in seconds.

This package must not import Locust at import time: importing it monkey-patches the
standard library with gevent, which would distort the analysis and collector benchmarks
that run in this process. Locust runs only in child processes (`bench.locustfiles`).
"""
