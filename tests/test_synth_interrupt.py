"""Ctrl-C during synth: a short message, exit 130, nothing written, no process left behind.

A terminal sends SIGINT to the whole foreground process group: meshform and its workers
(jsii's node runs in a session of its own). The test does the same (os.killpg) once node
runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import copy_example

pytestmark = pytest.mark.synth


def _descendants(root: int) -> dict[int, str]:
    """pid → name of every process below `root`."""
    parents, names = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        pid = int(stat.parent.name)
        names[pid] = text[text.index("(") + 1 : text.rindex(")")]
        parents[pid] = int(text.rsplit(")", 1)[1].split()[1])
    found, frontier = {}, {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in found}
        found |= {pid: names[pid] for pid in frontier}
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()


@pytest.mark.parametrize("domains", [None, 16], ids=["in-process", "workers"])
def test_ctrl_c_during_synth_stops_cleanly(tmp_path, domains):
    if domains is None:
        root = copy_example(tmp_path)
    else:
        from generated_mesh import generate

        root = generate(tmp_path / "mesh", domains=domains)
    out = tmp_path / "out"
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    proc = subprocess.Popen(
        [sys.executable, "-m", "meshform", "synth", "--no-cache", "--root", str(root), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        # As from a terminal: Ctrl-C at its default (a test runner in the background, or CI,
        # may have started us with SIGINT ignored, and Python then keeps ignoring it).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while "node" not in _descendants(proc.pid).values() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # node is loading the provider or building
        assert proc.poll() is None, "synth ended before it could be interrupted"
        spawned = _descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted" in stderr
    for noise in ("jsii", "Traceback", "Error", "b'"):
        assert noise not in stderr + stdout, (stdout, stderr)
    assert not (out / "stacks").exists()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in spawned) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = {pid: name for pid, name in spawned.items() if _alive(pid)}
    assert not left, f"outlived the interrupted synth: {left}"
