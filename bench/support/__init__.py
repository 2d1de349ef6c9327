"""What benches and tests share: the test LLM server (real HTTP on 127.0.0.1,
both APIs, able to be slow, fail or answer garbage), the same server in a
process of its own, workspaces and configs the benches build, and report
output. Imports Gloss, never a bench or a test.
"""
