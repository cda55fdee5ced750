"""The parts stack mode swaps: session cache, import queue, media storage, audio serving.

Each module holds one small interface and its embedded-mode implementation; `make_*`
functions pick the implementation named in `StandinSettings`.
"""
