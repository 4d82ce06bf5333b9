"""Group `ingestion`: game logs → games in the store (bad lines quarantined)."""
