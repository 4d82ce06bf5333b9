"""Fixtures for the Kubernetes manifests: each target rendered once per session."""

from __future__ import annotations

import pytest
import yaml

from tests.support.k8s import EXTRA_MANIFESTS, TARGETS, Doc, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Doc]]:
    """Target name (base, dev, prod) → the objects `kubectl kustomize` renders."""
    return {name: render(path) for name, path in TARGETS.items()}


@pytest.fixture(scope="session")
def extra_manifests() -> list[Doc]:
    docs: list[Doc] = []
    for path in EXTRA_MANIFESTS:
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs
