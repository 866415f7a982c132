"""Interchange with SBE (FIX Simple Binary Encoding) XML message schemas."""
