"""Gloss's drivers: the language server (pygls handlers) and the `gloss` command line.

Both drive `enrich_core.run.engine.Engine` through its own methods and never
reach into its parts. Only `server.lsp`, `server.main`, `server.positions` and
`server.features` import pygls or lsprotocol; the CLI (`server.cli`) imports
neither until `gloss serve` hands over to `server.main`. Handlers translate LSP
types to engine calls and back; they never touch SQL or HTTP themselves.
"""
