"""What stores and reads: the SQLite schema and its migrations, the reads the
hovers, search and status make, the one writer task, and the metrics computed
from what it committed.

Storage never imports the LLM layer: what it records arrives as plain records.
"""
