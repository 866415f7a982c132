"""The seed's `AILearningEngine` on top of the knowledge base: sources in, curricula and cited answers out.

Sources that are files or folders are ingested; any other source is a topic, answered from the
index. With a provider configured (the `hftc.ai` config, or `add_custom_model` then
`learn_with_model`), curricula get a model summary whose note citations are checked.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from hftc.ai.config import AIConfig, ConfigError, add_custom_model, load_config
from hftc.ai.knowledge.cited import ask, hits_context, units_context
from hftc.ai.knowledge.store import KnowledgeBase, hits_to_json, units_to_json


class AILearningEngine:
    """Knowledge acquisition: `learn_from_sources`, `generate_curriculum`, `add_custom_model`, `learn_with_model`."""

    def __init__(self, db_path: Path | str | None = None, config: AIConfig | None = None, offline: bool = False,
                 cache_dir: Path | str | None = None, make=None):
        self.kb = KnowledgeBase.open(Path(db_path) if db_path is not None else None)
        self._config = config
        self.offline = offline
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._make = make  # provider factory (tests and embedders); default: the real SDK providers

    @property
    def config(self) -> AIConfig:
        if self._config is None:
            self._config = load_config()
        return self._config

    def close(self) -> None:
        self.kb.close()

    # -- the seed's API ----------------------------------------------------------------------------

    async def learn_from_sources(self, sources: list[str | Path], limit: int = 5) -> dict[str, Any]:
        """Ingest every source that is a file or folder; look every other source up as a topic.
        Returns {"ingested": [paths], "added": n, "topics": {topic: [hits]}, "notes": [ids]}."""
        paths = [Path(s) for s in sources if Path(s).exists()]
        topics = [str(s) for s in sources if not Path(s).exists()]
        added = await asyncio.to_thread(self.kb.add_paths, paths) if paths else 0  # PDFs can take a while
        found: dict[str, list[dict]] = {t: hits_to_json(self.kb.search(t, limit)) for t in topics}
        notes = list(dict.fromkeys(h["id"] for hits in found.values() for h in hits if h["kind"] == "note"))
        return {"ingested": [str(p) for p in paths], "added": added, "topics": found, "notes": notes,
                "index": self.kb.stats()}

    async def generate_curriculum(self, goal: str, limit: int = 8, summarize: bool = True) -> dict[str, Any]:
        """A learning path for `goal` (prerequisites first, each unit with its exercise), plus a model
        summary citing note ids when a provider is configured."""
        units = self.kb.curriculum(goal, limit)
        result: dict[str, Any] = {"goal": goal, "units": units_to_json(units), "summary": None}
        config = self._usable_config()
        if summarize and units and config is not None:
            answer = await asyncio.to_thread(ask, goal, units_context(units), {u.id for u in units}, config,
                                             self.offline, self.cache_dir, self._make)
            result["summary"] = answer.to_json(config.prices) if answer else None
        return result

    def add_custom_model(self, name: str, api_endpoint: str, model_id: str, specialization: str = "",
                         api_key_env: str | None = None):
        """Register an OpenAI-compatible endpoint under `name` (for this engine and this process)."""
        model = add_custom_model(name, api_endpoint, model_id, specialization, api_key_env)
        self._config = self.config.add_custom_model(name, api_endpoint, model_id, specialization, api_key_env)
        return model

    async def learn_with_model(self, model_name: str, prompt: str, limit: int = 6) -> dict[str, Any]:
        """Ask `model_name` (a provider or a custom model) about `prompt`, grounded in the notes and
        documents the index finds for it; the answer's note citations are checked."""
        hits = self.kb.search(prompt, limit)
        config = dataclasses.replace(self.config, provider=model_name, model=None)
        specialization = config.models[model_name].specialization if model_name in config.models else ""
        resolved = self._resolve(config)
        context = hits_context(self.kb, hits)
        if specialization:
            context = f"The model is specialised in {specialization}.\n\n{context}"
        known = {h.id for h in hits if h.kind == "note"}
        answer = await asyncio.to_thread(ask, prompt, context, known, resolved, self.offline, self.cache_dir,
                                         self._make)
        return {"model": model_name, "prompt": prompt, "sources": hits_to_json(hits),
                "answer": answer.to_json(resolved.prices) if answer else None,
                "note": "" if answer else "offline: no cached answer for this prompt"}

    # -- helpers -----------------------------------------------------------------------------------

    def _resolve(self, config: AIConfig) -> AIConfig:
        try:
            return config.resolved()
        except ConfigError:
            if not self.offline:
                raise
            from hftc.ai.config import DEFAULT_MODEL

            custom = config.models.get(config.provider or "")
            model = config.model or (custom.model_id if custom else DEFAULT_MODEL.get(config.provider or ""))
            return dataclasses.replace(config, model=model)

    def _usable_config(self) -> AIConfig | None:
        return self._resolve(self.config) if self.config.configured else None
