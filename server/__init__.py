"""Gloss's language server: thin pygls handlers over `enrich_core.Engine`.

The only package that imports pygls or lsprotocol. Handlers translate LSP
types to engine calls and back; they never touch SQL or HTTP themselves.
"""
