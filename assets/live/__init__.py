"""The live game days' assets: the scorecard of the published prices."""
