"""Neutral modules the tester and the stand-in both use, owned by neither.

The stand-in (`fwload.standin`) must run, be tested and change without the tool that measures
it, and the tester must not reach into the stand-in's internals for shared vocabulary. What
both need lives here: cgroup creation and reading (`cgroups`), whole-file writes
(`files.write_atomic`) and the names of request groups (`requests.REQUEST_GROUPS`). Modules
here import only the standard library, third-party libraries and the leaf modules at the top
of `fwload` (`errors`, `status`, `units`, `quantity`, `limits`, `lifeline`).
"""
