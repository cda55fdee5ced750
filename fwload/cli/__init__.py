"""The ``fwload`` command line: one module per subcommand, registered on `app`."""
