"""Which model answers, with what settings and key: environment, a TOML config file, custom models.

Keys are read from the seed's variables (OPENAI_API_KEY, ANTHROPIC_API_KEY,
GOOGLE_API_KEY) or the config file, held in a `Secret` whose repr and str hide
them, and scrubbed from every error message with `redact`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

KINDS = ("openai", "anthropic", "google")
KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "google": "GOOGLE_API_KEY"}
BASE_URL_ENV = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}
GOOGLE_OPENAI_ENDPOINT = "https://generativelanguage.googleapis.com/v1beta/openai/"
DEFAULT_MODEL = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-latest", "google": "gemini-2.0-flash"}


class ConfigError(ValueError):
    """The AI configuration cannot be used (bad file, unknown provider, no key)."""


class Secret:
    """An API key that never shows itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def redact(text: str, secrets: list[Secret | None]) -> str:
    """`text` with every secret value replaced by `***`."""
    for s in secrets:
        if s is not None and len(s.reveal()) >= 4:
            text = text.replace(s.reveal(), "***")
    return text


@dataclass(frozen=True)
class CustomModel:
    """An OpenAI-compatible endpoint registered by name (the seed's `add_custom_model`)."""

    name: str
    api_endpoint: str
    model_id: str
    specialization: str = ""
    api_key_env: str | None = None


@dataclass(frozen=True)
class AIConfig:
    """Everything a provider needs. `provider` is openai, anthropic, google or a custom model's name."""

    provider: str | None = None
    model: str | None = None
    base_url: str | None = None
    api_key: Secret | None = field(default=None, repr=False)
    temperature: float = 0.0
    timeout_s: float = 60.0
    retries: int = 2
    repair_rounds: int = 3
    max_tokens: int = 8192
    cache_dir: str | None = None
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    models: dict[str, CustomModel] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return self.provider is not None

    @property
    def kind(self) -> str:
        """The wire protocol: `anthropic`, or `openai` for OpenAI, Google and custom endpoints."""
        return "anthropic" if self.provider == "anthropic" else "openai"

    def add_custom_model(self, name: str, api_endpoint: str, model_id: str, specialization: str = "",
                         api_key_env: str | None = None) -> "AIConfig":
        """A config that also knows `name` as an OpenAI-compatible endpoint serving `model_id`."""
        if not name or name in KINDS:
            raise ConfigError(f"`{name}` cannot name a custom model (the built-in providers are {', '.join(KINDS)})")
        if not api_endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"custom model `{name}`: api_endpoint must be an http(s) URL, not `{api_endpoint}`")
        models = dict(self.models)
        models[name] = CustomModel(name, api_endpoint, model_id, specialization, api_key_env)
        return replace(self, models=models)

    def resolved(self, env: dict[str, str] | None = None) -> "AIConfig":
        """The config with model, endpoint and key filled in for its provider; ConfigError when unusable."""
        env = dict(os.environ) if env is None else env
        if self.provider is None:
            return self
        custom = self.models.get(self.provider)
        if custom is not None:
            key = self.api_key or _env_secret(env, custom.api_key_env) or _env_secret(env, KEY_ENV["openai"])
            return replace(self, model=self.model or custom.model_id, base_url=self.base_url or custom.api_endpoint,
                           api_key=key or Secret("unused"))
        if self.provider not in KINDS:
            known = ", ".join([*KINDS, *sorted(self.models)])
            raise ConfigError(f"unknown provider `{self.provider}` (known: {known})")
        key = self.api_key or _env_secret(env, KEY_ENV[self.provider])
        if key is None:
            raise ConfigError(f"provider `{self.provider}` needs an API key: set {KEY_ENV[self.provider]} "
                              f"or `[keys] {self.provider} = ...` in the config file")
        base_url = self.base_url or env.get(BASE_URL_ENV.get(self.provider, ""), "") or None
        if self.provider == "google" and base_url is None:
            base_url = GOOGLE_OPENAI_ENDPOINT
        return replace(self, model=self.model or DEFAULT_MODEL[self.provider], base_url=base_url, api_key=key)


def _env_secret(env: dict[str, str], name: str | None) -> Secret | None:
    value = env.get(name or "", "").strip()
    return Secret(value) if value else None


def default_config_path(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    if env.get("HFTC_AI_CONFIG"):
        return Path(env["HFTC_AI_CONFIG"])
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "hftc" / "ai.toml"


_FILE_KEYS = {"provider", "model", "base_url", "temperature", "timeout_s", "retries", "repair_rounds", "max_tokens",
              "cache_dir", "keys", "models", "prices"}


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> AIConfig:
    """The config file (if any) overlaid by HFTC_AI_PROVIDER / HFTC_AI_MODEL; keys stay unresolved here."""
    env = dict(os.environ) if env is None else env
    path = path or default_config_path(env)
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read AI config {path}: {exc}") from None
        unknown = sorted(set(data) - _FILE_KEYS)
        if unknown:
            raise ConfigError(f"AI config {path}: unknown key(s) {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(_FILE_KEYS))})")
    config = AIConfig(models=registered_models())
    try:
        for name, spec in (data.get("models") or {}).items():
            config = config.add_custom_model(name, str(spec["api_endpoint"]), str(spec["model_id"]),
                                             str(spec.get("specialization", "")), spec.get("api_key_env"))
        prices = {str(m): (float(p[0]), float(p[1])) for m, p in (data.get("prices") or {}).items()}
        provider = env.get("HFTC_AI_PROVIDER") or data.get("provider")
        keys = data.get("keys") or {}
        key = keys.get(provider) if isinstance(keys, dict) and provider else None
        config = replace(
            config, provider=provider, model=env.get("HFTC_AI_MODEL") or data.get("model"),
            base_url=data.get("base_url"), api_key=Secret(str(key)) if key else None,
            temperature=float(data.get("temperature", 0.0)), timeout_s=float(data.get("timeout_s", 60.0)),
            retries=int(data.get("retries", 2)), repair_rounds=int(data.get("repair_rounds", 3)),
            max_tokens=int(data.get("max_tokens", 8192)), cache_dir=data.get("cache_dir"), prices=prices)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ConfigError(f"AI config {path}: invalid entry ({type(exc).__name__}: {exc})") from None
    return config


_REGISTRY: dict[str, CustomModel] = {}


def add_custom_model(name: str, api_endpoint: str, model_id: str, specialization: str = "",
                     api_key_env: str | None = None) -> CustomModel:
    """Register an OpenAI-compatible endpoint for this process (the seed's API); `--provider NAME` selects it."""
    model = AIConfig().add_custom_model(name, api_endpoint, model_id, specialization, api_key_env).models[name]
    _REGISTRY[name] = model
    return model


def registered_models() -> dict[str, CustomModel]:
    return dict(_REGISTRY)
