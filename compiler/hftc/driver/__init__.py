"""The driver: runs backends, formats their output, writes it atomically."""
