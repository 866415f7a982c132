"""Providers over the official SDKs: one call in, the answer's JSON text and token counts out.

OpenAI (and every OpenAI-compatible server: vLLM, llama.cpp, Ollama, Gemini's
OpenAI endpoint) answers through Chat Completions with a `json_schema` response
format; Anthropic through the Messages API with one tool whose input schema is
the answer's schema, forced by `tool_choice`. Retries of 429/5xx and timeouts are
the SDKs' own; every error leaves here as `ProviderError` with keys scrubbed.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any, Protocol

from hftc.ai.config import AIConfig, redact

ANSWER_TOOL = "answer"


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Reply:
    """The answer as text (JSON, if the model obeyed) and what it cost in tokens."""

    text: str
    usage: Usage
    finish: str = ""


@dataclass(frozen=True)
class Prompt:
    """One self-contained request: a system text, a user text, and the JSON Schema of the answer."""

    system: str
    user: str
    schema: dict[str, Any]
    schema_name: str


class ProviderError(RuntimeError):
    """The provider could not answer (HTTP error, timeout, connection). The message holds no key."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Provider(Protocol):
    name: str
    model: str

    def complete(self, prompt: Prompt) -> Reply: ...


def _describe(exc: Exception, config: AIConfig, who: str) -> ProviderError:
    status = getattr(exc, "status_code", None)
    kind = type(exc).__name__
    body = getattr(exc, "message", None) or str(exc)
    text = f"{who}: {kind}" + (f" (HTTP {status})" if status else "") + f": {body}"
    return ProviderError(redact(text, [config.api_key]), status)


class OpenAIProvider:
    """Chat Completions with `response_format={"type": "json_schema", ...}`."""

    def __init__(self, config: AIConfig):
        import openai

        self.config = config
        self.name = config.provider or "openai"
        self.model = config.model or "gpt-4o-mini"
        self._errors = (openai.OpenAIError,)
        self._client = openai.OpenAI(
            api_key=config.api_key.reveal() if config.api_key else None, base_url=config.base_url,
            timeout=config.timeout_s, max_retries=config.retries)

    def complete(self, prompt: Prompt) -> Reply:
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}],
                response_format={"type": "json_schema", "json_schema": {
                    "name": prompt.schema_name, "schema": prompt.schema, "strict": False}},
                temperature=self.config.temperature,
                max_tokens=self.config.max_tokens,
            )
        except self._errors as exc:
            raise _describe(exc, self.config, f"{self.name} ({self.model})") from None
        if not response.choices:
            raise ProviderError(f"{self.name} ({self.model}): the reply holds no choices")
        choice = response.choices[0]
        usage = response.usage
        return Reply(choice.message.content or "",
                     Usage(getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0),
                     choice.finish_reason or "")


class AnthropicProvider:
    """Messages API with one forced tool whose `input_schema` is the answer's schema."""

    def __init__(self, config: AIConfig):
        import anthropic

        self.config = config
        self.name = "anthropic"
        self.model = config.model or "claude-3-5-haiku-latest"
        self._errors = (anthropic.AnthropicError,)
        self._client = anthropic.Anthropic(
            api_key=config.api_key.reveal() if config.api_key else None, base_url=config.base_url,
            timeout=config.timeout_s, max_retries=config.retries)
        # Newer SDKs dropped sampling parameters from Messages.create; send temperature only where taken.
        self._sampling = ({"temperature": config.temperature}
                          if "temperature" in inspect.signature(self._client.messages.create).parameters else {})

    def complete(self, prompt: Prompt) -> Reply:
        schema = dict(prompt.schema)
        schema.setdefault("type", "object")
        try:
            response = self._client.messages.create(  # type: ignore[call-overload]  # plain-dict tool
                model=self.model,
                max_tokens=self.config.max_tokens,
                system=prompt.system,
                messages=[{"role": "user", "content": prompt.user}],
                tools=[{"name": ANSWER_TOOL, "description": f"Give the answer: one {prompt.schema_name} document.",
                        "input_schema": schema}],
                tool_choice={"type": "tool", "name": ANSWER_TOOL},
                **self._sampling,
            )
        except self._errors as exc:
            raise _describe(exc, self.config, f"anthropic ({self.model})") from None
        usage = Usage(getattr(response.usage, "input_tokens", 0) or 0, getattr(response.usage, "output_tokens", 0) or 0)
        for block in response.content:
            if getattr(block, "type", "") == "tool_use" and getattr(block, "name", "") == ANSWER_TOOL:
                return Reply(json.dumps(block.input, ensure_ascii=False), usage, response.stop_reason or "")
        text = "".join(getattr(b, "text", "") for b in response.content)
        return Reply(text, usage, response.stop_reason or "")


def make_provider(config: AIConfig) -> Provider:
    """The provider for a resolved config (see `AIConfig.resolved`)."""
    return AnthropicProvider(config) if config.kind == "anthropic" else OpenAIProvider(config)
