"""Loopback fakes for what cannot run on this machine (a Kubernetes API server).

They serve the real wire shapes (see ``shared/k8s-api-shapes.md``) so that the code under
test talks to them through its real client libraries, unmodified.
"""
