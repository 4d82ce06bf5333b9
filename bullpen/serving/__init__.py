"""Which model serves and what it serves: registry, lifecycle, the active model, warming.

`active` is the one owner of "which model serves" (the rule, the aliases, the Redis
pointer, promote, rollback, repair); `lifecycle` the only writer of a model's status;
`predictions` the one policy for a model's prediction rows; `warming` puts them in Redis.
"""
