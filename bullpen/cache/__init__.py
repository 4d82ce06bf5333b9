"""The prediction cache: its public contract (keys, values), writing it, and Redis clients."""
