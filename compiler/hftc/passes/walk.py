"""Helpers to visit every field, group and var-data of the IR's messages."""

from __future__ import annotations

from typing import Iterator

from hftc.ir.model import Field, Group, Message, Schema


def groups_of(owner: Message | Group) -> Iterator[Group]:
    for group in owner.groups:
        yield group
        yield from groups_of(group)


def all_fields(ir: Schema) -> Iterator[tuple[str, Field]]:
    """(owner description, field) for every field of messages, groups and composites."""
    for message in ir.messages:
        for f in message.fields:
            yield message.name, f
        for group in groups_of(message):
            for f in group.fields:
                yield f"{message.name}.{group.name}", f
    for t in ir.types:
        for f in t.fields:
            yield t.name, f
