"""Everything fwload knows about Funkwhale's HTTP API: paths, bodies, answers, accounts."""
