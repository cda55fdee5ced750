"""Talking to the Kubernetes cluster of the target: client set-up, errors, live checks, exec.

The official ``kubernetes`` client is imported lazily inside functions: it costs about half
a second, which commands that never reach a cluster should not pay.
"""
