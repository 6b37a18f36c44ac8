"""datacontract-cli, the reference ODCS peer, reads every committed contract: `datacontract lint`
passes, and what `datacontract export odcs` writes back (its own model's view of the contract)
imports into meshform as the same product, with nothing reported lost.

datacontract-cli runs from its own venv (it pins typer<0.28, older than the test venv's):
`bash .ci/run` installs it and points MESHFORM_DATACONTRACT at it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from meshform.authoring import contract_import as odcs_import
from meshform.catalog import manifest
from meshform.validation.validate import validate

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO / ".ci" / "datacontract-requirements.txt"
CHECK = Path(__file__).resolve().parent / "peer" / "datacontract_check.py"


def _datacontract(repo: Path = REPO) -> Path:
    """The `datacontract` executable: $MESHFORM_DATACONTRACT, else .venv-datacontract's. Never a skip."""
    configured = os.environ.get("MESHFORM_DATACONTRACT")
    candidates = [configured] if configured else [str(repo / ".venv-datacontract" / "bin" / "datacontract")]
    for candidate in candidates:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    pytest.fail(
        f"datacontract-cli is not installed{f' (MESHFORM_DATACONTRACT={configured})' if configured else ''}, so the "
        "contracts were not checked by the peer. Install it in a venv of its own:\n"
        f"    python3 -m venv .venv-datacontract && .venv-datacontract/bin/pip install -r "
        f"{REQUIREMENTS.relative_to(REPO)}\n(or set MESHFORM_DATACONTRACT to a datacontract executable); "
        "`bash .ci/run` does both.",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def peer() -> dict:
    files = sorted(str(p) for p in (REPO / "contracts").glob("*.odcs.yaml"))
    assert files
    python = _datacontract().parent / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATACONTRACT_")}
    proc = subprocess.run(
        [str(python), str(CHECK), *files], capture_output=True, text=True, cwd=REPO, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_datacontract_lint_passes_on_every_contract(peer):
    failed = {Path(f).name: r["lint_output"] for f, r in peer.items() if r["lint_exit"] != 0}
    assert not failed, failed
    for result in peer.values():
        assert "is valid against ODCS v3.1.0" in " ".join(result["lint_output"].split())


def test_what_the_peer_writes_back_imports_as_the_same_product(peer, tmp_path):
    for name in ("mesh.yaml", "domains", "subscriptions"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    before = manifest.build(validate(REPO).mesh)["products"]
    texts = {p.name: p.read_bytes() for p in (tmp_path / "domains").rglob("*") if p.is_file()}
    for file, result in peer.items():
        assert result["export_exit"] == 0, result
        written = tmp_path / f"peer-{Path(file).name}"
        written.write_text(result["export"])
        key = Path(file).name.removesuffix(".odcs.yaml")
        outcome = odcs_import.import_contract(tmp_path, written, key.split(".")[0])
        assert (outcome.action, outcome.losses, [str(f) for f in outcome.findings]) == ("unchanged", [], []), key
        assert manifest.build(outcome.mesh)["products"][key] == before[key]
    assert texts == {p.name: p.read_bytes() for p in (tmp_path / "domains").rglob("*") if p.is_file()}


def test_missing_datacontract_fails_with_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.delenv("MESHFORM_DATACONTRACT", raising=False)
    with pytest.raises(
        pytest.fail.Exception,
        match=r"datacontract-cli is not installed(.|\n)*pip install -r "
        r".ci/datacontract-requirements.txt",
    ):
        _datacontract(tmp_path)
    monkeypatch.setenv("MESHFORM_DATACONTRACT", str(tmp_path / "nowhere"))
    with pytest.raises(pytest.fail.Exception, match="MESHFORM_DATACONTRACT="):
        _datacontract(tmp_path)
