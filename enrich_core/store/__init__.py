"""What stores and reads: the SQLite schema and its migrations, the reads the
hovers, search and status make, the one writer task, and the metrics computed
from what it committed; and the store's safety: whether a file can be used
(`health`), which process writes it (`lock`), and opening it in that order
(`access`), so the store is never a reason to crash.

Storage never imports the LLM layer: what it records arrives as plain records.
"""
