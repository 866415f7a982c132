"""Content-addressed reply cache: the same request, context, prompt version, provider and model
give the same key, so a repeated run is served from disk, offline and byte-identical.

Entries hold the reply text and token counts, never a key or an endpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from hftc.ai.providers import Prompt, Provider, Reply, Usage
from hftc.fileio import write_atomically


class CacheMiss(LookupError):
    """Offline, and the cache has no reply for this prompt."""


def default_cache_dir() -> Path:
    from hftc.paths import build_cache

    return Path(os.environ["HFTC_AI_CACHE"]) if os.environ.get("HFTC_AI_CACHE") else build_cache() / "ai"


def cache_key(prompt: Prompt, provider: str, model: str, prompt_version: str) -> str:
    schema = json.dumps(prompt.schema, sort_keys=True, separators=(",", ":"))
    material = {"prompt_version": prompt_version, "provider": provider, "model": model, "system": prompt.system,
                "user": prompt.user, "schema_name": prompt.schema_name,
                "schema": hashlib.sha256(schema.encode()).hexdigest()}
    return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class ReplyCache:
    folder: Path

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> Reply | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            return Reply(str(data["text"]), Usage(int(data["input_tokens"]), int(data["output_tokens"])),
                         str(data.get("finish", "")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: ask again (online) or report a miss (offline)

    def put(self, key: str, reply: Reply, provider: str, model: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"provider": provider, "model": model, "text": reply.text, "finish": reply.finish,
                "input_tokens": reply.usage.input_tokens, "output_tokens": reply.usage.output_tokens}
        write_atomically(str(path), (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


class CachedProvider:
    """A provider behind the cache; offline, a miss raises `CacheMiss` instead of calling out."""

    def __init__(self, provider_name: str, model: str, cache: ReplyCache, prompt_version: str,
                 inner: Provider | None, offline: bool):
        self.name, self.model = provider_name, model
        self.cache, self.prompt_version = cache, prompt_version
        self.inner, self.offline = inner, offline

    def complete(self, prompt: Prompt) -> tuple[Reply, bool]:
        """The reply and whether it came from the cache."""
        key = cache_key(prompt, self.name, self.model, self.prompt_version)
        hit = self.cache.get(key)
        if hit is not None:
            return hit, True
        if self.offline or self.inner is None:
            raise CacheMiss(f"no cached reply of {self.name} ({self.model}) for this request (key {key[:12]})")
        reply = self.inner.complete(prompt)
        self.cache.put(key, reply, self.name, self.model)
        return reply, False
