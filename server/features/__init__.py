"""One LSP feature per module; each exposes `setup(server)` and registers nothing on import."""
