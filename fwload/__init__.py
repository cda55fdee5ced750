"""fwload: load testing and scenario validation for Funkwhale on Kubernetes, built on Locust."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fwload")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
