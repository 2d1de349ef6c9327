"""Orchestration: the per-workspace engine, its priority queue and retry timer,
the worker pool shared by workspace folders, the file watcher and the GPU
watch. The only layer that wires stages together.
"""
