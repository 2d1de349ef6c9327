"""What a user reads: hover Markdown and the text forms of reads, built from
store records. Escapes everything a model wrote; never queries by itself.
"""
