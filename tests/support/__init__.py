"""Helpers the test packages share (import as `tests.support.<module>`); no tests here.

Private loopback servers (redis-server, a Redis Cluster, uvicorn, free ports) come from
`bench.loopback`, the one implementation the benchmarks use too.

* `postgres` — throwaway databases on the test server, and a private `initdb` cluster.
* `redis_db` — clients on the shared Redis's private DB numbers, and cleaning them.
* `data` — the real 2022 sample in a store, its Elo model made active the audited way.
* `apps` — core and web-tier settings for an app on a given store and Redis.
* `promotion` — a 2019-2022 store, candidate models, a model walked to `active`.
* `proxy` — a TCP fault proxy; `load` — bounded load loops; `faults` — the fault table.
* `fixtures` — the pytest fixtures above, registered for every test by `tests/conftest.py`.
"""
