"""The promotion job's ops: warm green's keys, then flip blue → green (not assets: actions)."""
