"""The load-test smoke test (package: keeps its conftest out of `conftest`)."""
