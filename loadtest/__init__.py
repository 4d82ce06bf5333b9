"""Load tests with Locust: client-like user classes, phased load, a bounded headless runner.

`bullpen-loadtest` (see `loadtest.runner`) drives a running deployment on loopback
with `loadtest/locustfile.py` and judges the result against the SLOs in
`loadtest.settings`.
"""
