"""`hftc auto --interactive`: a prompt_toolkit session between phases.

After each phase it shows the result and reads commands: `continue` (or an empty
line), `show`, `request TEXT`, `param NAME=VALUE`, `schema FILE`, `quit`. Before
deployment files are applied it asks, and only `yes` applies them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HELP = ("commands: continue (or Enter) | show | request TEXT | param NAME=VALUE | schema FILE | quit")
RERUN_ON_REQUEST = {"learn", "generate"}


class Session:
    """One prompt session; `input`/`output` are prompt_toolkit's (pipe input and DummyOutput in tests)."""

    def __init__(self, input: Any = None, output: Any = None):
        from prompt_toolkit import PromptSession

        self.prompt = PromptSession(input=input, output=output)
        self.output = output
        self.log: list[str] = []

    def say(self, text: str) -> None:
        from prompt_toolkit import print_formatted_text

        self.log.append(text)
        print_formatted_text(text, output=self.output)

    def ask(self, question: str) -> str:
        try:
            return self.prompt.prompt(question).strip()
        except EOFError:
            return "quit"

    def between(self, phase: str, manifest: dict[str, Any], orch: Any) -> str:
        if phase == "approve":
            return self._approve(manifest)
        result = manifest.get("result") or {}
        self.say(f"{phase}: {manifest.get('status')} ({manifest.get('seconds', 0)} s)")
        self.say(_summary(phase, result))
        while True:
            line = self.ask(f"[{phase}] > ")
            word, _, rest = line.partition(" ")
            word, rest = word.lower(), rest.strip()
            if word in ("", "c", "continue", "next"):
                return "continue"
            if word in ("q", "quit", "exit"):
                self.say(f"stopped; continue later with `hftc auto --resume {orch.folder.root}`")
                return "quit"
            if word == "show":
                self.say(json.dumps(result, indent=2, default=str))
            elif word == "request" and rest:
                orch.request = rest
                self.say("request changed")
                if phase in RERUN_ON_REQUEST:
                    return "rerun"
            elif word == "param" and "=" in rest:
                name, _, value = rest.partition("=")
                try:
                    orch.set_param(name.strip(), float(value))
                except ValueError:
                    self.say(f"`{value.strip()}` is not a number")
                    continue
                self.say(f"parameter {name.strip()} = {float(value):g} for the backtest and the replay")
                if phase == "optimize":
                    return "rerun"
            elif word == "schema" and rest:
                self._replace_schema(orch, Path(rest).expanduser())
            else:
                self.say(HELP)

    def _replace_schema(self, orch: Any, path: Path) -> None:
        from hftc.deploy.schema_edit import write_validated
        from hftc.diagnostics.render import render_all

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.say(f"cannot read {path}: {exc}")
            return
        target = orch.ctx.schema_path
        if not target.is_file():
            self.say("there is no schema yet (the generate phase has not run)")
            return
        written = write_validated(str(target), text)
        if written.written:
            self.say(f"schema replaced by {path}; later phases use it")
        else:
            self.say(render_all(written.diagnostics, "text", written.sources.lookup))
            self.say("the schema is unchanged")

    def _approve(self, info: dict[str, Any]) -> str:
        deployments = ", ".join(info.get("deployments") or []) or "none"
        self.say(f"deployment files for {deployments} are in {info.get('files')}")
        answer = self.ask("apply them to the cluster of the current kubeconfig? type `yes` to apply [no] > ")
        return "yes" if answer.lower() == "yes" else "no"


def _summary(phase: str, r: dict[str, Any]) -> str:
    if phase == "learn":
        return "curriculum: " + ", ".join(r.get("units", []))
    if phase == "generate":
        plan = r.get("plan", {})
        return (f"schema by the {r.get('how')}: {plan.get('strategy')} on {', '.join(plan.get('instruments', []))}, "
                f"p99 target {plan.get('latency_target_ns')} ns")
    if phase == "build":
        return "generated: " + ", ".join(f"{t} ({n} files)" for t, n in (r.get("targets") or {}).items())
    if phase == "optimize":
        base = r.get("baseline") or {}
        return (f"defaults: {base.get('fills')} fills, PnL {base.get('pnl')}; {r.get('trials')} trial(s), "
                f"best {r.get('best_params')}")
    if phase == "deploy":
        return f"files in {r.get('files')}; applied: {r.get('applied')}"
    if phase == "monitor":
        states = ", ".join(f"{a['name']}={a['state']}" for a in r.get("alerts", [])) or "no rule fed"
        return f"{r.get('samples')} samples, final PnL {r.get('final_pnl')}; alerts: {states}"
    return json.dumps(r, default=str)[:400]
