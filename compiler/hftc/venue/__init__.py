"""A tool layer above the compiler: `hftc venue` builds the schema's venue program and runs it on a tape."""
