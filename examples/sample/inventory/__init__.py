"""A small inventory service: the sample workspace Gloss indexes in the quick start."""
