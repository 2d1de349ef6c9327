"""`python -m server` is `gloss serve`."""

from server.main import serve

serve()
