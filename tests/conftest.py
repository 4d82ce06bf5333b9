"""Every test package's shared fixtures come from `tests.support.fixtures` (a plugin)."""

pytest_plugins = ["tests.support.fixtures"]
