"""Locust user classes for Funkwhale (`listener`, `uploader`) and their options.

The classes are imported from their modules, not from here, so that `fwload.users.options`
(used to validate scenarios) can be imported without importing Locust.
"""
