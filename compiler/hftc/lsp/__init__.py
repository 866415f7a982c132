"""The language server (`hftc lsp`): the compiler's diagnostics, hovers, completions and edits in an editor."""
