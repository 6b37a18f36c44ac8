"""Benchmark: validate and synth of synthetic meshes of 10, 100 and 1,000 domains.

Each domain has 10 products; each product a dataset with 2 tables of 8 columns (one PII),
and every other product a bucket. Every measurement runs in a fresh process, so the
figures include imports (validate must never pay for cdktn) and the peak memory is that
of the measured step alone, node (jsii) included.

    python benchmarks/bench_mesh.py                 # 10, 100, 1000 domains
    python benchmarks/bench_mesh.py --sizes 10 100 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

MESH = """mesh: bench
billing_account: 012345-6789AB-CDEF01
parent: folders/123456789012
project_prefix: bench
default_location: EU
allowed_locations: [EU]
state_bucket: bench-tfstate
platform_team: group:platform@bench.example.com
governance_project: bench-governance
"""


def domain_yaml(index: int) -> str:
    name = f"d{index:04d}"
    lines = [
        f"domain: {name}",
        f"description: Synthetic domain {index}.",
        f"owners: [group:{name}@bench.example.com]",
        "cost_center: cc-1",
        "budget: {amount: 1000, currency: EUR}",
        "products:",
    ]
    for p in range(10):
        lines += [
            f"  - name: product_{p}",
            f"    description: Synthetic product {p} of domain {name}.",
            "    classification: confidential",
            "    refresh: daily",
            "    freshness_slo_hours: 26",
            "    bigquery:",
            "      tables:",
        ]
        for t in range(2):
            lines += [
                f"        - name: table_{t}",
                "          partitioning: {column: created_at}",
                "          columns:",
                "            - {name: id, type: STRING, mode: REQUIRED}",
                "            - {name: created_at, type: TIMESTAMP, mode: REQUIRED}",
                "            - {name: email, type: STRING, pii: true}",
            ]
            lines += [f"            - {{name: metric_{c}, type: NUMERIC}}" for c in range(5)]
        if p % 2 == 0:
            lines += ["    storage:", "      bucket: {retention_days: 30}"]
    return "\n".join(lines) + "\n"


def edit_one_domain(root: Path, n: int) -> None:
    """A change to the domain in the middle that reaches its Terraform: its budget (a change
    of a description alone would rebuild its stack too, but write the same bytes)."""
    paths = sorted((root / "domains").glob("*.yaml"))
    path = paths[len(paths) // 2]
    path.write_text(re.sub(r"budget: \{amount: \d+", f"budget: {{amount: {2000 + n}", path.read_text(), count=1))


def generate(root: Path, domains: int) -> None:
    (root / "domains").mkdir(parents=True)
    (root / "mesh.yaml").write_text(MESH)
    for i in range(domains):
        (root / "domains" / f"d{i:04d}.yaml").write_text(domain_yaml(i))


STEP = """
import json, resource, sys, time
t0 = time.perf_counter()
from meshform.validation.validate import validate
result = validate(sys.argv[2])
assert result.ok, [str(f) for f in list(result.findings)[:5]]
if sys.argv[1] == "synth":
    from meshform.render import synth
    synth(result.mesh, sys.argv[3])
seconds = time.perf_counter() - t0
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
# jsii's node processes (a runtime and the program it spawns) are still alive here, so
# RUSAGE_CHILDREN would miss them: sum the peak RSS of every descendant from /proc.
import os, pathlib
def _status(pid):
    try:
        text = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
parents = {}
for entry in pathlib.Path("/proc").glob("[0-9]*"):
    fields = _status(entry.name)
    if "PPid" in fields:
        parents[int(entry.name)] = int(fields["PPid"])
descendants, frontier = set(), {os.getpid()}
while frontier:
    frontier = {pid for pid, parent in parents.items() if parent in frontier} - descendants
    descendants |= frontier
node = sum(int(_status(pid).get("VmHWM", "0 kB").split()[0]) for pid in descendants)
print(json.dumps({"seconds": seconds, "python_mb": own / 1024, "node_mb": node / 1024}))
"""


def measure(step: str, root: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", STEP, step, str(root), str(out)], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{step} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per step and size; the median is reported")
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown cpu",
    )
    print(
        f"machine: {platform.machine()}, {cpu}, "
        f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{'domains':>8} {'products':>9} {'validate s':>11} {'synth s':>8} {'synth/validate':>15} "
        f"{'peak MB (py+node)':>18} {'resources':>10}"
    )
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "mesh"
            generate(root, size)
            repeat = args.repeat if size <= 100 else 1
            validate_runs = [measure("validate", root, Path(tmp) / "unused") for _ in range(repeat)]
            synth_runs = []
            for i in range(repeat):
                synth_runs.append(measure("synth", root, Path(tmp) / f"out{i}"))
            resources = sum(
                sum(len(v) for v in json.loads(p.read_text()).get("resource", {}).values())
                for p in (Path(tmp) / "out0" / "stacks").glob("*/cdk.tf.json")
            )
            v = statistics.median(r["seconds"] for r in validate_runs)
            s = statistics.median(r["seconds"] for r in synth_runs)
            peak = max(r["python_mb"] + r["node_mb"] for r in synth_runs)
            print(
                f"{size:>8} {size * 10:>9} {v:>11.2f} {s:>8.1f} {s / v:>15.1f} {peak:>18.0f} {resources:>10}",
                flush=True,
            )


if __name__ == "__main__":
    main()
