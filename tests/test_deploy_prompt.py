"""Deployment requests in plain words: parsing, schema editing, `hftc deploy`, applying to a cluster."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hftc.cli import app
from hftc.deploy import DeploymentConfig, IncompleteDeployment, Unrecognized
from hftc.deploy.schema_edit import dump_entry, edit_schema_text, existing_entry
from hftc.frontend.compile import compile_file
from hftc.schema.deploy import DeploymentSpec

from conftest import EXAMPLES

BULLETS = """Deploy trading engine to production with:
- 200ns latency tolerance
- NY4 and LD4 colocation
- 16 CPU cores, 64GB RAM
- SR-IOV networking
- Real-time kernel
"""

KEY_VALUE = """Action: Deploy
Component: MarketMakingEngine
Environment: Production
LatencyTolerance: 100ns
Servers: [NY4-Colo-1, NY4-Colo-2]
"""

SCHEMA = "fx_market_maker.hftc.yaml"


# -- the two seed requests -------------------------------------------------------

def test_bullet_request() -> None:
    config = DeploymentConfig.from_prompt(BULLETS)
    assert config.name == "trading_engine_prod"
    assert config.to_dict() == {
        "environment": "production",
        "sites": ["NY4", "LD4"],
        "latency_tolerance_ns": 200,
        "nodes": {"cpu_cores": 16, "memory_gb": 64, "sriov": True, "realtime_kernel": True},
    }
    assert config.unrecognized == []
    assert config.missing == []
    assert config.complete
    assert config.assumptions == [
        "`64GB` of memory read as 64 GiB (`memory_gb` counts GiB)",
        "entry named `trading_engine_prod` (from `trading engine` and production)",
    ]
    spec = config.spec
    assert isinstance(spec, DeploymentSpec)
    assert spec.nodes.hugepages_1gi == 0 and spec.kubernetes is None
    assert config.to_yaml() == (
        "trading_engine_prod:\n"
        "  environment: production\n"
        "  sites: [NY4, LD4]\n"
        "  latency_tolerance_ns: 200\n"
        "  nodes: {cpu_cores: 16, memory_gb: 64, sriov: true, realtime_kernel: true}\n"
    )


def test_key_value_request_reports_missing_instead_of_inventing() -> None:
    config = DeploymentConfig.from_prompt(KEY_VALUE)
    assert config.name == "market_making_engine_prod"
    assert config.component == "MarketMakingEngine"
    assert config.to_dict() == {"environment": "production", "sites": ["NY4"], "latency_tolerance_ns": 100}
    assert config.unrecognized == []
    # The request names no CPU or memory: they are reported, never made up.
    assert config.missing == ["nodes.cpu_cores", "nodes.memory_gb"]
    assert not config.complete
    assert "server `NY4-Colo-1` is at site NY4; entries list sites, not single servers" in config.assumptions
    with pytest.raises(IncompleteDeployment, match="nodes.cpu_cores"):
        _ = config.spec


def test_key_value_request_completed_by_an_existing_entry() -> None:
    text = (EXAMPLES / SCHEMA).read_text(encoding="utf-8")
    existing = existing_entry(text, "prod")
    assert existing is not None
    config = DeploymentConfig.from_prompt(KEY_VALUE, name="prod").merged_onto(existing)
    assert config.missing == []
    entry = config.to_dict()
    assert entry["latency_tolerance_ns"] == 100 and entry["sites"] == ["NY4"]
    assert entry["nodes"] == existing["nodes"] and entry["kubernetes"] == existing["kubernetes"]
    assert DeploymentSpec.model_validate(entry).pipeline == "tick_to_trade"
    assert any(a.startswith("kept from the existing entry `prod`: ") for a in config.assumptions)


# -- variants --------------------------------------------------------------------

@pytest.mark.parametrize(("text", "path", "value"), [
    ("latency 1.5us", ("latency_tolerance_ns",), 1500),
    ("2 µs latency budget", ("latency_tolerance_ns",), 2000),
    ("max latency under 1ms", ("latency_tolerance_ns",), 1_000_000),
    ("Latency-Tolerance: 750 ns", ("latency_tolerance_ns",), 750),
    ("32 vCPUs", ("nodes", "cpu_cores"), 32),
    ("16 cores", ("nodes", "cpu_cores"), 16),
    ("cores: 8", ("nodes", "cpu_cores"), 8),
    ("128 GiB memory", ("nodes", "memory_gb"), 128),
    ("1TB RAM", ("nodes", "memory_gb"), 1024),
    ("memory = 96g", ("nodes", "memory_gb"), 96),
    ("8 x 1GiB hugepages", ("nodes", "hugepages_1gi"), 8),
    ("16GB hugepages", ("nodes", "hugepages_1gi"), 16),
    ("hugepages: 4", ("nodes", "hugepages_1gi"), 4),
    ("no hugepages", ("nodes", "hugepages_1gi"), 0),
    ("without SR-IOV", ("nodes", "sriov"), False),
    ("sriov: yes", ("nodes", "sriov"), True),
    ("PREEMPT_RT", ("nodes", "realtime_kernel"), True),
    ("kernel: generic", ("nodes", "realtime_kernel"), False),
    ("isolated cpus 2-15", ("nodes", "isolated_cpus"), "2-15"),
    ("deploy to prod", ("environment",), "production"),
    ("ENV: stage", ("environment",), "staging"),
    ("dev environment", ("environment",), "development"),
    ("research", ("environment",), "research"),
    ("Sites: TY3, CH1", ("sites",), ["TY3", "CH1"]),
    ("colocated in ld4 and ny4", ("sites",), ["LD4", "NY4"]),
    ("hosts: NY4-Colo-1 LD4-Colo-7", ("sites",), ["NY4", "LD4"]),
    ("in us-east-1 on c7i.metal-24xl", ("cloud", "instance_type"), "c7i.metal-24xl"),
    ("Region: eu-west-2", ("cloud", "region"), "eu-west-2"),
    ("aws us-east-1b", ("cloud", "zone"), "us-east-1b"),
    ("namespace hft-prod", ("kubernetes", "namespace"), "hft-prod"),
    ("image: registry.example/fx-mm:1.0", ("kubernetes", "image"), "registry.example/fx-mm:1.0"),
    ("pipeline tick_to_trade", ("pipeline",), "tick_to_trade"),
    ("Team: fx", ("tags", "team"), "fx"),
    ("tags: system=fx-mm, cost=desk1", ("tags", "cost"), "desk1"),
])
def test_variants(text: str, path: tuple[str, ...], value: object) -> None:
    config = DeploymentConfig.from_prompt(text)
    assert config.unrecognized == []
    node: object = config.to_dict()
    for key in path:
        assert isinstance(node, dict) and key in node, (text, config.to_dict())
        node = node[key]
    assert node == value


def test_cloud_request() -> None:
    config = DeploymentConfig.from_prompt(
        "Deploy engine to staging on AWS\n"
        "- 2 instances of c6in.32xlarge in us-east-1a, cluster placement, EKS\n"
        "- 8 cores, 32 GiB, namespace hft-staging, image registry.example/engine:2\n")
    assert config.unrecognized == [] and config.missing == []
    assert config.name == "engine_staging"
    assert config.to_dict() == {
        "environment": "staging",
        "nodes": {"cpu_cores": 8, "memory_gb": 32},
        "kubernetes": {"namespace": "hft-staging", "image": "registry.example/engine:2"},
        "cloud": {"provider": "aws", "region": "us-east-1", "zone": "us-east-1a", "instance_type": "c6in.32xlarge",
                  "placement": "cluster", "count": 2, "node_group": "eks"},
    }
    DeploymentSpec.model_validate(config.to_dict())


def test_partial_cloud_is_missing_not_guessed() -> None:
    config = DeploymentConfig.from_prompt("dev, 4 cores 8GiB, region us-west-2")
    assert config.missing == ["cloud.instance_type"]
    assert "cloud provider `aws` inferred from the AWS region or instance type" in config.assumptions


def test_explicit_names() -> None:
    assert DeploymentConfig.from_prompt(BULLETS, name="ny_ld").name == "ny_ld"
    assert DeploymentConfig.from_prompt("Name: fx_prod\nEnv: prod").name == "fx_prod"
    assert DeploymentConfig.from_prompt("16 cores").name == "deployment"


# -- what is not understood is reported --------------------------------------------

def test_unknown_lines_are_reported() -> None:
    text = ("Deploy trading engine to production with:\n"
            "- 200ns latency tolerance\n"
            "- blue-green rollout\n"
            "Colour: blue\n"
            "Enviroment: prod\n"
            "- 16 cores and a pony\n"
            "Latency: 200\n"
            "- hugepages\n"
            "- Memory: 100000GiB\n"
            "Delete the staging deployment\n"
            "Deploy on GCP\n")
    config = DeploymentConfig.from_prompt(text)
    by_line = {u.line: u for u in config.unrecognized}
    assert by_line[3] == Unrecognized(3, "- blue-green rollout", "not understood")
    assert by_line[4].reason.startswith("unknown key `Colour`")
    assert by_line[5].reason == "unknown key `Enviroment`; did you mean `environment`?"
    assert by_line[6].reason == "not understood: `pony`"
    assert by_line[7].reason == "latency `200` has no unit; write e.g. `200ns`"
    assert by_line[8].reason.startswith("how many 1 GiB huge pages?")
    assert by_line[9].reason == "`nodes.memory_gb: 100000` is invalid: Input should be less than or equal to 65536"
    assert by_line[10].reason == "`Delete` is not supported: only deployment requests are"
    assert by_line[11].reason == "cloud `GCP` is not supported: only `aws` is"
    # Understood parts of the same request are kept; refused values are left out, not clamped.
    entry = config.to_dict()
    assert entry["latency_tolerance_ns"] == 200 and entry["environment"] == "production"
    assert "staging" not in json.dumps(entry)
    assert config.missing == ["nodes.memory_gb"]
    assert entry["nodes"] == {"cpu_cores": 16}
    assert [u.line for u in config.unrecognized] == sorted(u.line for u in config.unrecognized)


def test_conflicts_are_reported_and_the_first_value_kept() -> None:
    config = DeploymentConfig.from_prompt("16 cores\n- 32 cores\nprod\nEnvironment: staging")
    assert config.to_dict()["nodes"]["cpu_cores"] == 16 and config.to_dict()["environment"] == "production"
    assert [u.line for u in config.unrecognized] == [2, 4]
    assert "conflicts with `16` from line 1" in config.unrecognized[0].reason


def test_durations_need_context_and_whole_nanoseconds() -> None:
    config = DeploymentConfig.from_prompt("restart within 5ms\nlatency 0.5ns\n1234567890123ns latency")
    assert sorted({u.line for u in config.unrecognized}) == [1, 2, 3]
    assert "a duration, but the line does not say it is the latency tolerance" in config.unrecognized[0].reason
    assert "latency_tolerance_ns" not in config.to_dict()


_FRAGMENTS = [BULLETS, KEY_VALUE, "16 cores", "64GB", "NY4", "latency 200ns", "hugepages", "prod", "sriov",
              ":", "-", "Servers: [", "us-east-1", "c7i.metal-24xl", "9" * 40, "1e999ns", "µs", "\n", " ", "x",
              "Cores: 99999", "Tags: =", "image", "namespace", "Deploy", "to", "with:", "Name: 1a"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=400),
                 st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=12), max_size=25).map("".join)))
def test_arbitrary_text_never_raises(text: str) -> None:
    config = DeploymentConfig.from_prompt(text)
    lines = text.splitlines()
    for u in config.unrecognized:
        assert isinstance(u, Unrecognized) and 1 <= u.line <= len(lines) and u.reason
    # Whatever was read is schema-valid once the missing values are supplied.
    entry = config.to_dict()
    assert set(config.missing) <= {"environment", "nodes.cpu_cores", "nodes.memory_gb", "kubernetes.namespace",
                                   "kubernetes.image", "cloud.region", "cloud.instance_type"}
    if config.complete:
        DeploymentSpec.model_validate(entry)
    assert config.name.isidentifier()
    config.to_yaml()


# -- schema editing ------------------------------------------------------------------

def _copy_example(tmp_path: Path) -> Path:
    for name in (SCHEMA, "common.hftc.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path / SCHEMA


def test_edit_in_place_keeps_comments_and_styles() -> None:
    text = (EXAMPLES / SCHEMA).read_text(encoding="utf-8")
    assert edit_schema_text(text, "prod", existing_entry(text, "prod")) == text
    edited = edit_schema_text(text, "prod", {**existing_entry(text, "prod"), "latency_tolerance_ns": 150})
    old, new = text.splitlines(), edited.splitlines()
    assert len(old) == len(new)
    assert [(a, b) for a, b in zip(old, new, strict=True) if a != b] == [("    latency_tolerance_ns: 200",
                                                             "    latency_tolerance_ns: 150")]


def test_edit_adds_a_deployments_section() -> None:
    text = "hftc: 1  # version\npackage: a.b\n\nmonitoring:\n  interval_ms: 100\n"
    edited = edit_schema_text(text, "dev", {"environment": "development", "nodes": {"cpu_cores": 2, "memory_gb": 4}})
    assert edited == ("hftc: 1  # version\npackage: a.b\n\ndeployments:\n  dev:\n    environment: development\n"
                      "    nodes: {cpu_cores: 2, memory_gb: 4}\nmonitoring:\n  interval_ms: 100\n")
    assert dump_entry("dev", {"sites": ["NY4"]}) == "dev:\n  sites: [NY4]\n"


# -- the command line ------------------------------------------------------------------

def _run(args: list[str], input: str | None = None):
    return CliRunner().invoke(app, args, input=input)


def test_cli_diff_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, golden) -> None:
    schema = _copy_example(tmp_path)
    before = schema.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = _run(["deploy", SCHEMA, "--prompt", BULLETS])
    assert result.exit_code == 0, result.stderr
    golden.check("deploy/diff.txt", result.stdout)
    assert "note: entry named `trading_engine_prod`" in result.stderr
    assert schema.read_text(encoding="utf-8") == before  # no --write: nothing changes

    result = _run(["deploy", SCHEMA, "--name", "prod", "--prompt", "-"], input=KEY_VALUE)
    assert result.exit_code == 0, result.stderr
    golden.check("deploy/diff_update.txt", result.stdout)
    assert "kept from the existing entry `prod`" in result.stderr


def test_cli_write_preserves_comments_and_compiles(tmp_path: Path) -> None:
    schema = _copy_example(tmp_path)
    before = schema.read_text(encoding="utf-8")
    result = _run(["deploy", str(schema), "--prompt", BULLETS, "--write"])
    assert result.exit_code == 0, result.stderr
    after = schema.read_text(encoding="utf-8")
    assert after.startswith(before[:before.index("\nmonitoring:")])
    assert after.endswith(before[before.index("\nmonitoring:"):])
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(c in after.splitlines() for c in comments)
    compiled = compile_file(str(schema))
    assert compiled.ok and compiled.diagnostics == []
    assert [d.name for d in compiled.ir.deployments] == ["prod", "trading_engine_prod"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["common.hftc.yaml", SCHEMA]  # no temporary left


def test_cli_write_refuses_unclear_requests(tmp_path: Path) -> None:
    schema = _copy_example(tmp_path)
    before = schema.read_text(encoding="utf-8")
    prompt = BULLETS + "- blue-green rollout\n"
    result = _run(["deploy", str(schema), "--prompt", prompt, "--write"])
    assert result.exit_code == 1
    assert "warning: line 7: not understood" in result.stderr and "7 | - blue-green rollout" in result.stderr
    assert schema.read_text(encoding="utf-8") == before
    result = _run(["deploy", str(schema), "--prompt", prompt, "--write", "--allow-partial"])
    assert result.exit_code == 0, result.stderr
    assert "trading_engine_prod:" in schema.read_text(encoding="utf-8")


def test_cli_write_refuses_incomplete_entries(tmp_path: Path) -> None:
    schema = _copy_example(tmp_path)
    before = schema.read_text(encoding="utf-8")
    result = _run(["deploy", str(schema), "--prompt", KEY_VALUE, "--write"])
    assert result.exit_code == 1
    assert "`nodes.cpu_cores`, `nodes.memory_gb`" in result.stderr
    assert schema.read_text(encoding="utf-8") == before


def test_cli_write_leaves_file_untouched_when_the_result_does_not_compile(tmp_path: Path) -> None:
    schema = _copy_example(tmp_path)
    before = schema.read_text(encoding="utf-8")
    # Schema-valid entry, but `class` is a reserved word in the generated languages.
    result = _run(["deploy", str(schema), "--name", "class", "--prompt", BULLETS, "--write"])
    assert result.exit_code == 1
    assert "HFT0107" in result.stderr and "is unchanged" in result.stderr
    assert schema.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["common.hftc.yaml", SCHEMA]


# -- applying ----------------------------------------------------------------------------

class FakeClient:
    """Records server-side apply calls; refuses kinds it was told the cluster does not serve."""

    def __init__(self, missing_kinds: tuple[str, ...] = ()):
        self.calls: list[tuple[str, str, str | None, bool, str]] = []
        self.missing_kinds = missing_kinds

    def apply(self, manifest: dict, *, dry_run: bool, field_manager: str) -> None:
        from hftc.deploy.apply import ObjectError

        meta = manifest["metadata"]
        self.calls.append((manifest["kind"], meta["name"], meta.get("namespace"), dry_run, field_manager))
        if manifest["kind"] in self.missing_kinds:
            raise ObjectError(f"the cluster does not serve {manifest['kind']}")


def test_apply_dry_run_with_injected_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hftc.deploy.apply as apply_module

    schema = _copy_example(tmp_path)
    fake = FakeClient()
    seen: list[tuple] = []

    def fake_connect(kubeconfig=None, context=None):
        seen.append((kubeconfig, context))
        return fake

    monkeypatch.setattr(apply_module, "connect", fake_connect)
    result = _run(["deploy", str(schema), "--name", "prod", "--prompt", "latency 150ns", "--apply",
                   "--context", "colo"])
    assert result.exit_code == 0, result.stderr
    assert seen == [(None, "colo")]
    assert fake.calls and all(c[3] is True and c[4] == "hftc" for c in fake.calls)  # dry run only
    assert fake.calls[0][:2] == ("Namespace", "hft-production")
    kinds = [c[0] for c in fake.calls]
    assert {"Deployment", "ConfigMap", "NetworkPolicy"} <= set(kinds)
    assert kinds.index("Deployment") > kinds.index("ConfigMap")
    # The overlay's namespace applies to the base's objects too, as kustomize does.
    assert {c[2] for c in fake.calls if c[0] != "Namespace"} == {"hft-production"}
    assert "server-side dry run of" in result.stderr and "nothing was changed" in result.stderr
    assert "latency_tolerance_ns: 200" in schema.read_text(encoding="utf-8")  # no --write


def test_apply_refuses_real_apply_without_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hftc.deploy.apply as apply_module

    schema = _copy_example(tmp_path)
    fake = FakeClient()
    monkeypatch.setattr(apply_module, "connect", lambda kubeconfig=None, context=None: fake)
    result = _run(["deploy", str(schema), "--name", "prod", "--prompt", "latency 150ns", "--apply", "--no-dry-run"])
    assert result.exit_code == 1 and "add --write" in result.stderr and fake.calls == []
    result = _run(["deploy", str(schema), "--name", "prod", "--prompt", "latency 150ns", "--apply", "--no-dry-run",
                   "--write"])
    assert result.exit_code == 0, result.stderr
    assert fake.calls and all(c[3] is False for c in fake.calls)
    assert "latency_tolerance_ns: 150" in schema.read_text(encoding="utf-8")


def test_apply_reports_refused_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hftc.deploy.apply as apply_module

    schema = _copy_example(tmp_path)
    monkeypatch.setattr(apply_module, "connect", lambda kubeconfig=None, context=None: FakeClient(("PodMonitor",)))
    result = _run(["deploy", str(schema), "--name", "prod", "--prompt", "prod", "--apply"])
    assert result.exit_code == 1
    assert "failed    PodMonitor/fx-mm-prod-engine in hft-production: the cluster does not serve PodMonitor" \
        in result.stderr


def test_apply_needs_a_kubernetes_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hftc.deploy.apply as apply_module

    schema = _copy_example(tmp_path)
    monkeypatch.setattr(apply_module, "connect", lambda kubeconfig=None, context=None: FakeClient())
    result = _run(["deploy", str(schema), "--prompt", BULLETS, "--apply"])
    assert result.exit_code == 1
    assert "made no overlay for deployment `trading_engine_prod`" in result.stderr


def test_apply_reports_a_missing_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hftc.driver.registry as registry

    schema = _copy_example(tmp_path)
    monkeypatch.setattr(registry, "load_backend", lambda name: None)
    result = _run(["deploy", str(schema), "--name", "prod", "--prompt", "prod", "--apply"])
    assert result.exit_code == 1
    assert "the `k8s` build target is not available" in result.stderr


def test_apply_without_kubeconfig_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = _copy_example(tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing" / "config"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    result = _run(["deploy", str(schema), "--name", "prod", "--prompt", "prod", "--apply"])
    assert result.exit_code == 1
    assert f"error: no kubeconfig at {tmp_path / 'missing' / 'config'}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unreachable_cluster_fails_cleanly(tmp_path: Path) -> None:
    pytest.importorskip("kubernetes")
    from hftc.deploy.apply import ApplyError, connect

    config = tmp_path / "kubeconfig"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": "https://127.0.0.1:9", "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
    }), encoding="utf-8")
    with pytest.raises(ApplyError, match=r"cannot reach the cluster at https://127\.0\.0\.1:9"):
        connect(str(config), timeout_s=2)
    config.write_text("not: [a kubeconfig", encoding="utf-8")
    with pytest.raises(ApplyError, match="cannot load the kubeconfig"):
        connect(str(config))


def test_dynamic_client_sends_server_side_dry_run() -> None:
    pytest.importorskip("kubernetes")
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

    from hftc.deploy.apply import DynamicKubeClient, ObjectError, apply_manifests

    calls: list[dict] = []

    class Resources:
        def get(self, api_version: str, kind: str):
            if kind == "PodMonitor":
                raise ResourceNotFoundError(kind)
            return SimpleNamespace(namespaced=kind != "Namespace", kind=kind)

    class Dynamic:
        resources = Resources()

        def server_side_apply(self, resource, **kwargs):
            calls.append({"kind": resource.kind, **kwargs})
            if kwargs["namespace"] == "hft":
                body = json.dumps({"kind": "Status", "message": 'namespaces "hft" not found'})
                raise NotFoundError(SimpleNamespace(status=404, reason="Not Found", body=body, headers={}))

    client = DynamicKubeClient(dynamic=Dynamic())
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "hft"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "hft"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d", "namespace": "other"}},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": {"name": "m", "namespace": "x"}},
    ]
    report = apply_manifests(objects, client, dry_run=True)
    assert [c["dry_run"] for c in calls] == ["All"] * 3
    assert {c["field_manager"] for c in calls} == {"hftc"}
    assert calls[0]["namespace"] is None and calls[1]["namespace"] == "hft"
    assert [r.status for r in report.results] == ["valid", "unchecked", "valid", "failed"]
    assert "does not serve PodMonitor (monitoring.coreos.com/v1)" in report.results[3].message
    assert not report.ok

    calls.clear()
    report = apply_manifests(objects[:1], client, dry_run=False)
    assert calls[0]["dry_run"] is None and report.results[0].status == "applied"
    with pytest.raises(ObjectError):
        client.apply(objects[1], dry_run=False, field_manager="hftc")
