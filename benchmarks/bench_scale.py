"""Benchmark: validate and discover side by side with merely loading the files, in one run.

    python benchmarks/bench_scale.py                  # 100 and 1,000 domains, 3 runs each
    python benchmarks/bench_scale.py --sizes 100 --repeat 5

Every measurement is a fresh process. For each size it prints the median wall time and the
median CPU time (user + sys of that process: steadier than wall time on a shared machine) of

* `load`: reading every spec file with PyYAML's C loader (`yaml.CSafeLoader`), the floor;
* `validate`: `meshform.validate.validate(root, cache=False)`, imports included;
* `validate warm`: the same with the cache of an earlier run (`.meshform-cache/`);
* `discover warm`: the `meshform discover` command, process start included;

and the ratios the issue asks for (validate / load, warm / load, 1,000 / 100 domains).
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

from bench_mesh import generate

STEPS = {
    "load": """
import glob, yaml
for name in sorted(glob.glob(ROOT + "/domains/*.yaml")) + [ROOT + "/mesh.yaml"]:
    with open(name, encoding="utf-8") as handle:
        yaml.load(handle.read(), Loader=yaml.CSafeLoader)
""",
    "validate": """
from meshform.validate import validate
assert validate(ROOT, cache=False).ok
""",
    "validate warm": """
from meshform.validate import validate
assert validate(ROOT, cache=True).ok
""",
}
WRAP = """
import resource, sys, time, json
ROOT = sys.argv[1]
t0 = time.perf_counter()
{body}
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"wall": time.perf_counter() - t0, "cpu": usage.ru_utime + usage.ru_stime}}))
"""


def run_step(step: str, root: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", WRAP.format(body=STEPS[step]), str(root)], capture_output=True, text=True
    )
    if proc.returncode:
        raise SystemExit(f"{step} failed:\n{proc.stderr[-2000:]}")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown cpu",
    )
    load = os.getloadavg()[0]
    print(
        f"machine: {platform.machine()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f} at start"
    )
    meshform = shutil.which("meshform") or str(Path(sys.executable).parent / "meshform")
    figures: dict[int, dict[str, tuple[float, float]]] = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "mesh"
            generate(root, size)
            run_step("validate warm", root)  # fills the cache
            results: dict[str, list[dict]] = {name: [] for name in (*STEPS, "discover warm")}
            for _ in range(args.repeat):  # interleaved, so a burst of other work hits every step alike
                for name in STEPS:
                    results[name].append(run_step(name, root))
                results["discover warm"].append(
                    run_command([meshform, "discover", "synthetic email", "--root", str(root)])
                )
        figures[size] = {name: (median(runs, "wall"), median(runs, "cpu")) for name, runs in results.items()}
        base = figures[size]["load"]
        print(f"\n{size} domains ({size * 10} products), median of {args.repeat}:")
        print(f"  {'step':<15} {'wall s':>8} {'cpu s':>8} {'wall/load':>10} {'cpu/load':>9}")
        for name, (wall, cpu_s) in figures[size].items():
            print(
                f"  {name:<15} {wall:>8.2f} {cpu_s:>8.2f} {wall / base[0]:>10.2f} {cpu_s / base[1]:>9.2f}", flush=True
            )
    if len(figures) >= 2:
        small, large = min(figures), max(figures)
        print(
            f"\ngrowth {large} / {small} domains (cpu): "
            + ", ".join(f"{name} {figures[large][name][1] / figures[small][name][1]:.1f}x" for name in figures[small])
        )


if __name__ == "__main__":
    main()
