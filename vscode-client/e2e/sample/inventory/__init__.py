"""A small inventory package: the workspace the VS Code end-to-end test opens."""
