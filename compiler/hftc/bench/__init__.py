"""`hftc bench`: build the generated and runtime benchmarks, run them, compare."""
