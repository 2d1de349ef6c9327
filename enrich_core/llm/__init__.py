"""What talks to models: the backend protocol and its HTTP and embedded kinds,
slots and circuit breakers, the outbound (redacted) request text, the first
tier a span starts at, the quality gate, the router that retries, fails over
and escalates, and the doctor that probes hosts. No store, no scheduling.
"""
