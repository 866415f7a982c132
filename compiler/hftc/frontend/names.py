"""Identifier rules shared by every name that becomes code."""

from __future__ import annotations

import re

IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# Keywords of C++, Rust and Python that would break generated code.
RESERVED = frozenset(
    """
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
    char32_t class compl concept const consteval constexpr constinit const_cast continue co_await
    co_return co_yield decltype default delete do double dynamic_cast else enum explicit export
    extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq
    nullptr operator or or_eq private protected public register reinterpret_cast requires return
    short signed sizeof static static_assert static_cast struct switch template this thread_local
    throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while
    xor xor_eq
    as async await crate dyn fn impl in let loop match mod move mut pub ref self Self super trait
    type unsafe use where abstract become box final macro override priv typeof unsized yield
    False None True assert def del elif except finally from global import is lambda nonlocal pass
    raise with
    """.split()
)
