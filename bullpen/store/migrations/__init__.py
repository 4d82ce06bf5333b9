"""Alembic environment of the store; run it through `bullpen.store.migrate`."""
