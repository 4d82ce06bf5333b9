"""`python -m bullpen.store [URL]`: migrate the store to the latest schema."""

from bullpen.store.migrate import main

main()
