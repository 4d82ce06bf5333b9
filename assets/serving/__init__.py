"""Group `serving`: one partition per game date, its predictions in the store and in Redis."""
