"""The `gloss` command line: a driver beside the language server, over the same
engine methods. Imports the LSP layer only to `gloss serve`.
"""
