"""The online tier: a FastAPI app serving predictions, fair odds and edge from the cache."""
