"""From files on disk to an IR: read, validate, resolve imports, lower."""

from hftc.frontend.compile import CompileResult, compile_file, compile_text

__all__ = ["CompileResult", "compile_file", "compile_text"]
