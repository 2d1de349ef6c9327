"""Benchmarks for the budgets in DESIGN.md; each runs as `python -m bench.NAME` and reports.

Benchmarks time things and print PASS/FAIL against a budget, always side by
side with a baseline measured in the same run; unit tests never time anything.
"""
