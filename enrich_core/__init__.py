"""Gloss's engine: spans, scheduler, router, backends, validation, writer, store.

Plain asyncio and typed dataclasses; knows nothing of LSP. The CLI and the
language server both drive `enrich_core.run.engine.Engine`.
"""
