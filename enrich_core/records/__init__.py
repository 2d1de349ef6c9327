"""Plain records shared by several stages: a span, a gloss and its schema, a gloss
result, a status report. They import nothing of Gloss but each other.
"""
