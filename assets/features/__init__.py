"""Group `features`: games → pre-game features of every game, in the store."""
