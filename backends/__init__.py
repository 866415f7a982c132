"""hftc's built-in backends, one subpackage per target (installed as `hftc.backends`)."""
