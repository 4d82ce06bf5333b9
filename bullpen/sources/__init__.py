"""Where game logs come from: a directory or a download, read, hashed and parsed."""
