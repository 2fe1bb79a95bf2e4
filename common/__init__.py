"""Shared plumbing: helpers every app may use. Nothing here imports an app of the project
(docs/ARCHITECTURE.md; tests/test_layers.py holds the rule)."""
