"""Benchmark: validate and discover side by side with merely loading the files, in one run.

    python benchmarks/bench_scale.py                  # 100 and 1,000 domains, 3 runs each
    python benchmarks/bench_scale.py --sizes 100 --repeat 5

Every measurement is a fresh process, imports included; the steps are interleaved (each
repeat runs every step once), so a burst of other work on the machine hits them alike.
For each size it prints the median wall time and the median CPU time (user + sys, of the
process and of the worker processes it waited for) of

* `load`: reading every spec file with PyYAML's C loader (`yaml.CSafeLoader`), the floor;
* `validate, 1 process`: `meshform.validation.validate.validate(root, cache=False)` with
  MESHFORM_PARSE_WORKERS=0 (no worker processes);
* `validate`: the same as a user runs it: on Linux with several cores (and 150 files or
  more), files are parsed by worker processes (meshform.read.parsemany: one fewer than the
  cores, none when the load average says other work keeps the cores busy; the number used
  in each run is printed) while the main process checks each file's spec. Its wall time is
  what the user waits for; its CPU time is summed over the processes, so it is more than
  the wall time and more than the 1-process CPU time (the workers send their results back);
* `validate, 1 worker`: the same with one worker process whatever the load
  (MESHFORM_PARSE_WORKERS=1): what the worker gives on this machine in this run;
* `validate, cold cache`: `validate(root)` with an empty `.meshform-cache/`: a first run,
  which fills the cache (each file's data, each domain's spec and model, the answer;
  mesh.json and the search index are saved by the first `discover`, not timed);
* `validate, warm cache`: the same again, answered from the cache;
* `meshform validate`, `meshform discover ...`: the command line, whole processes from start
  to exit, warm cache. `discover` twice: a query every product matches (the worst case:
  every product is ranked) and a query that matches one domain's products;
* `validate, one domain changed`: after one domain's budget is edited (what pre-commit
  runs): that file is parsed and resolved again, the other domains come from the cache.

and the ratios the issue asks for: each step against `load` (wall and CPU), and 1,000 / 100
domains.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_mesh import edit_one_domain, generate

LOAD = """
import glob, yaml
for name in sorted(glob.glob(ROOT + "/domains/*.yaml")) + [ROOT + "/mesh.yaml"]:
    with open(name, encoding="utf-8") as handle:
        yaml.load(handle.read(), Loader=yaml.CSafeLoader)
"""
VALIDATE = """
import glob
from meshform.read.parsemany import PARALLEL_MIN_FILES, workers
from meshform.validation.validate import validate
# The worker processes validate uses: none below PARALLEL_MIN_FILES files, none when the
# cores are busy with other work (meshform.read.parsemany.workers).
WORKERS = workers() if len(glob.glob(ROOT + "/domains/*.yaml")) + 1 >= PARALLEL_MIN_FILES else 0
assert validate(ROOT, cache={cache}).ok
"""
WRAP = """
import resource, sys, time, json
ROOT = sys.argv[1]
t0 = time.perf_counter()
{body}
wall = time.perf_counter() - t0
cpu = sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
print(json.dumps({{"wall": wall, "cpu": cpu, "workers": globals().get("WORKERS")}}))
"""
SERIAL = {"MESHFORM_PARSE_WORKERS": "0"}
ONE_WORKER = {"MESHFORM_PARSE_WORKERS": "1"}


def run_python(body: str, root: Path, env: dict[str, str] | None = None) -> dict:
    """A fresh interpreter running `body`: wall time from its first line, CPU of it and its children."""
    proc = subprocess.run(
        [sys.executable, "-c", WRAP.format(body=body), str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode:
        raise SystemExit(f"step failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_command(args: list[str]) -> dict:
    """A whole CLI process: wall time from start to exit, CPU of the child."""
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return {
        "wall": wall,
        "cpu": (after.children_user - before.children_user) + (after.children_system - before.children_system),
    }


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown cpu",
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.machine()}, {cpu}, {cores} cores, Python {platform.python_version()}"


def measure(root: Path, repeat: int, meshform: str) -> dict[str, list[dict]]:
    cache = root / ".meshform-cache"
    discover = [meshform, "discover", "--root", str(root)]
    steps = {
        "load": lambda: run_python(LOAD, root),
        "validate, 1 process": lambda: run_python(VALIDATE.format(cache=False), root, SERIAL),
        "validate": lambda: run_python(VALIDATE.format(cache=False), root),
        "validate, 1 worker": lambda: run_python(VALIDATE.format(cache=False), root, ONE_WORKER),
        "validate, cold cache": lambda: (
            shutil.rmtree(cache, ignore_errors=True),
            run_python(VALIDATE.format(cache=True), root),
        )[1],
        "validate, warm cache": lambda: run_python(VALIDATE.format(cache=True), root),
        "meshform validate": lambda: run_command([meshform, "validate", "--root", str(root)]),
        "meshform discover (all match)": lambda: run_command([*discover, "synthetic email"]),
        "meshform discover (one domain)": lambda: run_command([*discover, "d0042"]),
        "validate, one domain changed": lambda: (
            edit_one_domain(root, len(results["load"])),
            run_python(VALIDATE.format(cache=True), root),
        )[1],
    }
    results: dict[str, list[dict]] = {name: [] for name in steps}
    for _ in range(repeat):
        for name, step in steps.items():
            results[name].append(step())
            if name == "validate, cold cache":  # the first discover saves the search index: not timed
                run_command([*discover, "x"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    beside = Path(sys.executable).parent / "meshform"  # the meshform of this interpreter
    meshform = str(beside) if beside.is_file() else shutil.which("meshform") or "meshform"
    figures: dict[int, dict[str, tuple[float, float]]] = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "mesh"
            generate(root, size)
            run_python(VALIDATE.format(cache=True), root)  # warms the disk cache and the signing key
            results = measure(root, args.repeat, meshform)
        figures[size] = {name: (median(runs, "wall"), median(runs, "cpu")) for name, runs in results.items()}
        base = figures[size]["load"]
        print(f"\n{size} domains ({size * 10} products), median of {args.repeat}:")
        print(f"  {'step':<32} {'wall s':>8} {'cpu s':>8} {'wall/load':>10} {'cpu/load':>9}")
        for name, (wall, cpu_s) in figures[size].items():
            used = [
                r["workers"]
                for r in results[name]
                if name in ("validate", "validate, 1 worker", "validate, cold cache")
            ]
            note = f"  workers {'/'.join(map(str, used))}" if used else ""
            print(
                f"  {name:<32} {wall:>8.2f} {cpu_s:>8.2f} {wall / base[0]:>10.2f} {cpu_s / base[1]:>9.2f}{note}",
                flush=True,
            )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if len(figures) >= 2:
        small, large = min(figures), max(figures)
        print(f"\ngrowth {large} / {small} domains (wall, cpu):")
        for name in figures[small]:
            (w1, c1), (w2, c2) = figures[small][name], figures[large][name]
            print(f"  {name:<32} {w2 / w1:>6.1f}x {c2 / c1:>6.1f}x")
    print(
        "\nvalidate's CPU time counts its worker processes too: compare its wall time with load's; "
        "'validate, 1 process' is the CPU cost without workers."
    )


if __name__ == "__main__":
    main()
