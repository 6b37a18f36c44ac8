"""Ctrl-C during synth: a short message, exit 130, nothing written, no process left behind.

A terminal sends SIGINT to the whole foreground process group: meshform, jsii's node
processes and the workers. The test does the same (os.killpg) once node runs."""

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


def _group_has_node(group: int) -> bool:
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            name = status.with_name("comm").read_text().strip()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and name == "node":
            return True
    return False


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


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
    )
    try:
        deadline = time.monotonic() + 120
        while not _group_has_node(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # node is loading the provider or building
        assert proc.poll() is None, "synth ended before it could be interrupted"
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
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _group_alive(proc.pid), "a worker or node process outlived the interrupted synth"
