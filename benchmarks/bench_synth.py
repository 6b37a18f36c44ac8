"""Benchmark: synth side by side with the naive one-App baseline, in one run.

    python benchmarks/bench_synth.py                    # 100 and 1,000 domains
    python benchmarks/bench_synth.py --sizes 100 --repeat 3

For each size (a mesh from bench_mesh.generate: 10 products a domain), every step in a fresh
process, timed from process start, with the peak memory of the whole process tree (Python,
jsii's node processes and any workers: the sum of their resident memory, sampled every
0.2 s):

* `naive`: the same stacks built in one CDK Terrain App in one process (what synth did before
  workers and the cache), then published;
* `full`: `meshform synth` with an empty cache: every stack built by the workers;
* `one domain changed`: `meshform synth` again after one domain's budget was edited;
* `one-domain mesh`: `meshform synth --no-cache` of a mesh of one domain, the yardstick of
  the incremental synth.

It prints the medians and the ratios the issue sets goals for: full / naive (≤ 0.5), peak
memory of full (< 1.5 GB), one domain changed / one-domain mesh (≤ 1.5).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_mesh import edit_one_domain, generate

NAIVE = """
import sys
from pathlib import Path
from meshform.validation.validate import validate
from meshform.render.build import build_batch
from meshform.render.plan import plan_stacks
from meshform.render.publish import publish, publish_lock
mesh = validate(sys.argv[1], cache=False).mesh
stacks = build_batch(plan_stacks(mesh))
with publish_lock(Path(sys.argv[2])):
    publish(Path(sys.argv[2]), {s.name: s for s in stacks}, full=True)
"""


def _tree_rss(root_pid: int) -> int:
    """Resident memory (bytes) of `root_pid` and all its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields.get("PPid", "0").strip() or 0)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    family, frontier = {root_pid}, {root_pid}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - family
        family |= frontier
    return sum(rss.get(pid, 0) for pid in family)


def measure(command: list[str], cwd: Path, may_fail: bool = False) -> dict:
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", COLUMNS="100")
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode:
        if may_fail:  # the naive baseline: one node heap for every stack may not hold them
            last = [line for line in stderr.splitlines() if line.strip()][-1:] or ["?"]
            return {"seconds": seconds, "peak_mb": peak / 2**20, "failed": last[0][:120]}
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{stdout[-2000:]}\n{stderr[-3000:]}")
    return {"seconds": seconds, "peak_mb": peak / 2**20}


def meshform(*args: str) -> list[str]:
    return [sys.executable, "-m", "meshform", *args]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each step; the median is reported")
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 2**20
    print(
        f"machine: {platform.machine()}, {cpu}, {os.cpu_count()} cores, {memory} GB, "
        f"Python {platform.python_version()}; load average at start {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "one"
        generate(small, 1)
        yardstick = [
            measure(meshform("synth", "--no-cache", "-o", str(Path(tmp) / f"one-out{i}")), small)
            for i in range(args.repeat)
        ]
        one = statistics.median(r["seconds"] for r in yardstick)
        print(f"one-domain mesh, synth --no-cache: {one:.1f} s, peak {max(r['peak_mb'] for r in yardstick):.0f} MB")
        print(f"{'domains':>8} {'step':<20} {'wall s':>8} {'peak MB':>8}  ratio")
        for size in args.sizes:
            root = Path(tmp) / f"mesh{size}"
            generate(root, size)
            rows = {}
            runs = [
                measure([sys.executable, "-c", NAIVE, str(root), str(Path(tmp) / f"naive{size}-{i}")], root, True)
                for i in range(args.repeat)
            ]
            rows["naive (one App)"] = runs
            full_runs, changed_runs = [], []
            for i in range(args.repeat):
                shutil.rmtree(root / ".meshform-cache", ignore_errors=True)
                out = Path(tmp) / f"out{size}-{i}"
                full_runs.append(measure(meshform("synth", "-o", str(out)), root))
                edit_one_domain(root, i)
                changed_runs.append(measure(meshform("synth", "-o", str(out)), root))
            rows["full (workers)"] = full_runs
            rows["one domain changed"] = changed_runs
            naive = statistics.median(r["seconds"] for r in rows["naive (one App)"])
            naive_failed = next((r["failed"] for r in rows["naive (one App)"] if "failed" in r), None)
            for step, runs in rows.items():
                seconds = statistics.median(r["seconds"] for r in runs)
                peak = max(r["peak_mb"] for r in runs)
                if step.startswith("naive") and naive_failed:
                    ratio = f"FAILED after {seconds:.0f} s: {naive_failed}"
                elif step.startswith("full") and naive_failed:
                    ratio = "the naive baseline failed"
                elif step.startswith("full"):
                    ratio = f"{seconds / naive:.2f} of naive"
                elif step.startswith("one domain"):
                    ratio = f"{seconds / one:.2f} of the one-domain mesh"
                else:
                    ratio = ""
                print(f"{size:>8} {step:<20} {seconds:>8.1f} {peak:>8.0f}  {ratio}", flush=True)


if __name__ == "__main__":
    main()
