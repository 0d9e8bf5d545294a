"""Item pipelines: validate, dedup, store (see docs/architecture.md)."""
