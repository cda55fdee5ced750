"""The measurements of a run: requests, imports, streams, resources and start-up, each its own module."""
