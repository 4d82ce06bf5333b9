"""One module per resource; `create_app` includes every router."""
