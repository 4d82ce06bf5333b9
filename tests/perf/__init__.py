"""Equivalence tests of the optimised paths (package: keeps its conftest out of `conftest`)."""
