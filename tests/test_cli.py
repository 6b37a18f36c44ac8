"""The command line, end to end: exit codes, output, and what it does not load."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from meshform.cli import app

from helpers import REPO

runner = CliRunner()


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "meshform", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_validate_the_example_mesh():
    result = runner.invoke(app, ["validate", "--root", str(REPO)])
    assert result.exit_code == 0, result.output
    assert "mesh 'acme': 5 domains, 9 products, 12 tables, 4 buckets" in result.output


def test_validate_never_loads_cdk_terrain():
    code = (
        "import sys\n"
        "from meshform.cli import app\n"
        f"try:\n    app(['validate', '--root', {str(REPO)!r}])\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('cdktn', 'cdktn_provider_google', 'jsii', 'constructs')]\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_json_format_is_machine_readable(mesh_repo):
    mesh_repo("domains/sales.yaml", (mesh_repo.root / "domains/sales.yaml").read_text().replace("daily", "sometimes"))
    result = runner.invoke(app, ["validate", "--root", str(mesh_repo.root), "--format", "json"])
    assert result.exit_code == 1
    [finding] = json.loads(result.output)
    assert finding["file"] == "domains/sales.yaml" and finding["line"] == 10 and finding["column"] == 14
    assert finding["path"] == "products[0].refresh" and finding["severity"] == "error"


def test_github_format_prints_annotations(mesh_repo):
    mesh_repo("domains/sales.yaml", (mesh_repo.root / "domains/sales.yaml").read_text().replace("daily", "sometimes"))
    result = runner.invoke(app, ["validate", "--root", str(mesh_repo.root), "--format", "github"])
    assert result.exit_code == 1
    assert (
        "::error file=domains/sales.yaml,line=10,col=14::products[0].refresh: 'sometimes' is not one of"
        in result.output
    )


def test_usage_errors_exit_2(tmp_path):
    assert run("validate", "--root", str(tmp_path / "missing")).returncode == 2
    proc = run("validate", "--root", str(tmp_path))
    assert proc.returncode == 2 and "no mesh.yaml" in proc.stderr and "Traceback" not in proc.stderr
    assert run("validate", "--no-such-flag").returncode == 2
    assert run("frobnicate").returncode == 2


def test_synth_refuses_invalid_specs_and_writes_nothing(mesh_repo, tmp_path):
    mesh_repo("domains/sales.yaml", "domain: [\n")
    result = runner.invoke(app, ["synth", "--root", str(mesh_repo.root), "--out", str(tmp_path / "tf")])
    assert result.exit_code == 1
    assert not (tmp_path / "tf").exists()


def test_synth_unknown_domain_is_a_usage_error(tmp_path):
    proc = run("synth", "--root", str(REPO), "--out", str(tmp_path), "--domain", "nope")
    assert proc.returncode == 2
    assert "no such stack: nope" in proc.stderr


def test_synth_command_writes_stacks(mesh_repo, tmp_path):
    proc = run("synth", "--root", str(mesh_repo.root), "--out", str(tmp_path / "tf"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "tf" / "stacks" / "sales" / "cdk.tf.json").is_file()
    assert "3 stack(s)" in proc.stdout  # bootstrap, platform, sales
    assert "Traceback" not in proc.stderr and "end-of-life" not in proc.stderr


def test_committed_schemas_are_current():
    result = runner.invoke(app, ["schema", "--check", "--out", str(REPO / "schemas")])
    assert result.exit_code == 0, result.output


def test_schema_check_detects_stale_files(tmp_path):
    (tmp_path / "mesh.schema.json").write_text("{}")
    assert runner.invoke(app, ["schema", "--check", "--out", str(tmp_path)]).exit_code == 1
    assert runner.invoke(app, ["schema", "--out", str(tmp_path)]).exit_code == 0
    assert runner.invoke(app, ["schema", "--check", "--out", str(tmp_path)]).exit_code == 0


def test_example_specs_point_editors_at_the_schema():
    assert (REPO / "mesh.yaml").read_text().startswith("# yaml-language-server: $schema=schemas/mesh.schema.json")
    for path in (REPO / "domains").glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=../schemas/domain.schema.json"), path


def test_example_specs_validate_against_the_json_schema():
    import jsonschema

    from meshform.read.load import load_spec_file

    def as_an_editor_reads(path):  # YAML 1.2's JSON schema: 2027-06-30 is a string to an editor
        return json.loads(json.dumps(load_spec_file(path, path.name).data, default=str))

    schemas = {n: json.loads((REPO / "schemas" / n).read_text()) for n in ("mesh.schema.json", "domain.schema.json")}
    jsonschema.validate(as_an_editor_reads(REPO / "mesh.yaml"), schemas["mesh.schema.json"])
    for path in (REPO / "domains").glob("*.yaml"):
        jsonschema.validate(as_an_editor_reads(path), schemas["domain.schema.json"])


def test_version():
    assert runner.invoke(app, ["--version"]).output.startswith("meshform ")
