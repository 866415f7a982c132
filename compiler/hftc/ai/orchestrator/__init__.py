"""The end-to-end automation run (`hftc auto`, the seed's `AIAutomationOrchestrator`): phases with manifests in a run folder."""

from hftc.ai.orchestrator.engine import AIAutomationOrchestrator, AutoError
from hftc.ai.orchestrator.manifest import PHASES

__all__ = ["PHASES", "AIAutomationOrchestrator", "AutoError"]
