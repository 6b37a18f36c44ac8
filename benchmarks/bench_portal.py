"""The portal: build the static site of a generated mesh, after validation.

    python benchmarks/bench_portal.py [DOMAINS] [RUNS]   (default 1,000 domains, 3 runs)

The mesh is tests/generated_mesh.py's (domains that subscribe to each other, 2–3 products
each, policy tags, restricted products): the graph has edges and the product pages have
consumers. Validation is timed once and reported apart; the figure is the median of RUNS
builds of the whole site (manifest, every page, the graph), written to a temporary folder.
Goal: under 3 s at 1,000 domains. Pages are rendered by one worker per core (forked) from
1,000 pages up; on a machine shared with other work the wall time mostly waits for the CPU
and the disk, so the load average is printed beside it.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from meshform.catalog import manifest, portal
from meshform.validation.validate import validate

from generated_mesh import generate


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    domains = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "mesh", domains)
        start = time.perf_counter()
        result = validate(root)
        validate_s = time.perf_counter() - start
        assert result.ok, [str(f) for f in list(result.findings)[:5]]
        mesh = result.mesh
        gc.collect()
        times, manifest_times = [], []
        for run in range(runs):
            out = Path(tmp) / f"site-{run}"
            start = time.perf_counter()
            data = manifest.build(mesh)
            manifest_times.append(time.perf_counter() - start)
            built = portal.build(data, out)
            times.append(time.perf_counter() - start)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        files = sum(1 for p in out.rglob("*") if p.is_file())
    print(f"machine: {machine()}")
    print(
        f"domains={domains} products={built.products} subscriptions={len(mesh.subscriptions)} "
        f"validate={validate_s:.1f} s (not counted)"
    )
    print(
        f"portal build (manifest + site): median {statistics.median(times):.2f} s of {runs} "
        f"(min {min(times):.2f}, max {max(times):.2f}); of which manifest.build median "
        f"{statistics.median(manifest_times):.2f} s; {files} files, {size / 1e6:.1f} MB"
    )
    print(
        f"load average while it ran: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (wall time includes "
        "waiting for the CPU when the machine is shared)"
    )


if __name__ == "__main__":
    main()
