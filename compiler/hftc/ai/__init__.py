"""The AI layer: plain-English requests to lint-clean schemas, offline by default."""
