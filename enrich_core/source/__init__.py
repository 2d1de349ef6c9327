"""What finds and cuts code: which files a workspace holds (discovery), how each
is read through its syntax tree, the spans cut from it, and the indexer that
walks, stamps and parses files for the engine. No network, no store.
"""
