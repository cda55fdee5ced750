"""Real-time playback as a listener hears it: the pure parts, no Locust, no network.

`clock` accounts a play exactly from when its bytes arrived (start-up delay, stalls, seek
waits, played seconds); `rate` finds the byte rate a track plays at; `tally` sums the plays
in progress in one process for the live figures. The Locust side is `fwload.users.player`.
"""
