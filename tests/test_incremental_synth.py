"""Incremental synth: a stack taken from the cache is exactly what a clean full synth writes.

The cache key of a stack is the digest of the slice of the mesh it is built from
(render.plan). Two properties make a stale entry impossible, and both are checked here:
a stack built from its slice is byte for byte the stack built from the whole mesh, and
after any sequence of edits the incremental output equals a clean full synth."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from meshform.render import build_stacks
from meshform.render.build import build_batch
from meshform.render.plan import StackPlan, plan_stacks
from meshform.synth.guard import synthesize
from meshform.validation.validate import validate
from tests.helpers import copy_example

pytestmark = pytest.mark.synth

yaml = YAML()
yaml.preserve_quotes = True
yaml.width = 4096


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_each_stack_built_from_its_slice_is_the_stack_built_from_the_whole_mesh(tmp_path):
    root = copy_example(tmp_path)
    mesh = validate(root, cache=False).mesh
    plans = plan_stacks(mesh)
    whole = [StackPlan(p.name, p.kind, mesh, p.subject, p.tag_users) for p in plans]
    assert {p.kind for p in plans} == {"bootstrap", "platform", "domain", "access"}
    # A slice holds less than the mesh: what the stack reads, and nothing else.
    for plan in plans:
        if plan.kind == "domain":
            assert [d.name for d in plan.mesh.domains] == [plan.subject] and plan.mesh.subscriptions == ()
    sliced = {b.name: b.json for b in build_batch(plans)}
    assert sliced == {b.name: b.json for b in build_batch(whole)}


def test_render_code_never_reads_spec_positions():
    """Keys leave `Source` (where a value was written) out: rendering must not read it."""
    from tests.helpers import REPO

    package = REPO / "src" / "meshform"
    modules = [*(package / "render").rglob("*.py")]
    modules += [package / "catalog" / "dataproducts.py", package / "catalog" / "metadata.py"]  # what render calls
    readers = [str(m.relative_to(package)) for m in modules if ".source" in m.read_text()]
    assert len(modules) > 10 and readers == []


# ── random edits: incremental == clean full synth ─────────────────────────────────────────


def _edit_yaml(path: Path, change) -> None:
    data = yaml.load(path)
    change(data)
    yaml.dump(data, path)


def _domains(root: Path) -> list[Path]:
    return sorted((root / "domains").glob("*.yaml"))


def _tables(data) -> list:
    return [t for p in data.get("products", []) for t in (p.get("bigquery") or {}).get("tables", [])]


def edit_domain_description(root: Path, rng: random.Random, n: int) -> str:
    path = rng.choice(_domains(root))
    _edit_yaml(path, lambda d: d.__setitem__("description", f"Edited description {n}."))
    return f"description of {path.name}"


def add_owner(root: Path, rng: random.Random, n: int) -> str:
    path = rng.choice(_domains(root))
    _edit_yaml(path, lambda d: d["owners"].append(f"group:extra{n}@acme.com"))
    return f"owner added to {path.name}"


def edit_budget(root: Path, rng: random.Random, n: int) -> str:
    path = rng.choice(_domains(root))
    _edit_yaml(path, lambda d: d["budget"].__setitem__("amount", 1000 + n))
    return f"budget of {path.name}"


def add_column(root: Path, rng: random.Random, n: int) -> str:
    path = rng.choice(_domains(root))

    def change(data) -> None:
        table = rng.choice(_tables(data))
        table["columns"].append({"name": f"extra_{n}", "type": "STRING", "pii": rng.random() < 0.5})

    _edit_yaml(path, change)
    return f"column added in {path.name}"


def edit_mesh_label(root: Path, rng: random.Random, n: int) -> str:
    _edit_yaml(root / "mesh.yaml", lambda d: d["labels"].__setitem__("edited", f"v{n}"))
    return "mesh.yaml label"


def edit_policy_tag_description(root: Path, rng: random.Random, n: int) -> str:
    def change(data) -> None:
        tag = rng.choice(list(data["policy_tags"]))
        data["policy_tags"][tag] = f"Edited tag description {n}."

    _edit_yaml(root / "mesh.yaml", change)
    return "mesh.yaml policy tag description"


def edit_subscription(root: Path, rng: random.Random, n: int) -> str:
    path = rng.choice(sorted((root / "subscriptions").rglob("*.yaml")))

    def change(data) -> None:
        sub = rng.choice(data["subscriptions"])
        if rng.random() < 0.5:
            sub["purpose"] = f"Edited purpose {n}."
        else:
            sub["expires"] = f"2028-0{1 + n % 9}-15"

    _edit_yaml(path, change)
    return f"subscription in {path.relative_to(root)}"


def remove_subscription_file(root: Path, rng: random.Random, n: int) -> str:
    path = rng.choice(sorted((root / "subscriptions").rglob("*.yaml")))
    path.unlink()
    return f"removed {path.relative_to(root)}"


def add_subscription(root: Path, rng: random.Random, n: int) -> str:
    producer = rng.choice(_domains(root))
    data = yaml.load(producer)
    consumer = rng.choice([p for p in _domains(root) if p != producer])
    product = rng.choice(data["products"])["name"]
    folder = root / "subscriptions" / data["domain"]
    folder.mkdir(exist_ok=True)
    target = folder / f"{consumer.stem}.yaml"
    if target.exists():
        _edit_yaml(target, lambda d: d["subscriptions"].append({"product": product, "purpose": f"Added {n}."}))
    else:
        target.write_text(
            f"consumer: {consumer.stem}\nproducer: {data['domain']}\n"
            f"subscriptions:\n  - product: {product}\n    purpose: Added {n}.\n"
        )
    return f"{consumer.stem} subscribes to {data['domain']}.{product}"


def edit_transformation_sql(root: Path, rng: random.Random, n: int) -> str:
    # Resolution reads the SQL beside the domain files: a domain's cached model and content
    # key (meshform.validation.domain_cache) must change with it.
    path = rng.choice(sorted((root / "domains").rglob("*.sql")))
    path.write_text(path.read_text().replace("SELECT", f"-- edited {n}\nSELECT", 1))
    return f"SQL of {path.relative_to(root)}"


def add_domain(root: Path, rng: random.Random, n: int) -> str:
    name = f"new{n}"
    (root / "domains" / f"{name}.yaml").write_text(
        f"domain: {name}\ndescription: A domain added by the test.\nowners: [group:{name}@acme.com]\n"
        f"cost_center: cc-{n:04d}\nbudget: {{amount: 100, currency: EUR}}\n"
        "products:\n  - name: things\n    description: Things this domain knows, one row per thing, for the test.\n"
        "    classification: confidential\n    refresh: daily\n    freshness_slo_hours: 30\n"
        "    bigquery:\n      tables:\n        - name: things\n          description: One row per thing.\n"
        "          columns:\n            - {name: id, type: STRING, mode: REQUIRED}\n"
        "            - {name: email, type: STRING, pii: true}\n"
    )
    return f"domain {name} added"


EDITS = [
    edit_domain_description,
    add_owner,
    edit_budget,
    add_column,
    edit_mesh_label,
    edit_policy_tag_description,
    edit_subscription,
    remove_subscription_file,
    add_subscription,
    add_domain,
    edit_transformation_sql,
]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and ".meshform" not in str(p)
    }


def _restore(root: Path, files: dict[str, bytes]) -> None:
    for p in list(root.rglob("*.yaml")):
        if str(p.relative_to(root)) not in files:
            p.unlink()
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_synth_after_random_edits_equals_a_clean_full_synth(tmp_path, seed):
    rng = random.Random(seed)
    root = copy_example(tmp_path)
    incremental = tmp_path / "incremental"
    synthesize(validate(root, cache=False).mesh, root, incremental, cache=True)
    history: list[str] = []
    reused = 0
    for step in range(7):
        before = _snapshot(root)
        edits = [rng.choice(EDITS)(root, rng, step * 10 + i) for i in range(rng.randint(1, 3))]
        # As the CLI does: validated through the cache (domains read back, keyed by content).
        result = validate(root, cache=True)
        if not result.ok:  # an edit the specs refuse (a collision, a policy): undo it
            _restore(root, before)
            history.append(f"(refused: {', '.join(edits)})")
            continue
        history += edits
        done = synthesize(result.mesh, root, incremental, cache=True)
        reused += len(done.stacks) - done.built
        clean = tmp_path / f"clean{step}"
        synthesize(validate(root, cache=False).mesh, root, clean, cache=False)
        assert tree(incremental) == tree(clean), f"seed {seed}, after: {history}"
    assert reused > 0, "the cache was never used: the test proved nothing"
    print(history)
    assert sum(not h.startswith("(refused") for h in history) >= 5, f"most edits were refused: {history}"


def test_unchanged_mesh_is_taken_from_the_cache_whole(tmp_path):
    from meshform.cache import Cache

    root = copy_example(tmp_path)
    mesh = validate(root, cache=False).mesh
    first = build_stacks(mesh, cache=Cache(root))
    again = build_stacks(mesh, cache=Cache(root))
    assert first.cached == frozenset() and again.cached == set(again.stacks)
    assert {n: s.json for n, s in first.stacks.items()} == {n: s.json for n, s in again.stacks.items()}


def test_the_key_changes_with_the_libraries_that_render(monkeypatch, tmp_path):
    import importlib.metadata

    from meshform.render import fingerprint

    mesh = validate(copy_example(tmp_path), cache=False).mesh
    plan = plan_stacks(mesh)[2]
    key = plan.key
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda n: "9.9.9" if n == "cdktn-provider-google" else real(n))
    fingerprint.code_version.cache_clear()
    try:
        assert StackPlan(plan.name, plan.kind, plan.mesh, plan.subject).key != key
    finally:
        monkeypatch.undo()
        fingerprint.code_version.cache_clear()
    assert StackPlan(plan.name, plan.kind, plan.mesh, plan.subject).key == key


def test_workers_build_what_one_process_builds(tmp_path):
    from meshform.render import workers

    mesh = validate(copy_example(tmp_path), cache=False).mesh
    plans = plan_stacks(mesh)
    here = {b.name: b.json for b in workers.build(plans, jobs=0)}
    seen: list[str] = []
    spread = {b.name: b.json for b in workers.build(plans, jobs=2, on_built=seen.append, in_process_max=0, batch=3)}
    assert spread == here
    assert sorted(seen) == sorted(here)


def test_a_script_without_a_main_guard_runs_once(tmp_path):
    """Workers are not multiprocessing's: its spawn would run the calling script again."""
    import subprocess
    import sys

    from tests.helpers import REPO

    root = copy_example(tmp_path)
    runs = tmp_path / "runs.txt"
    script = tmp_path / "script.py"
    script.write_text(
        "from meshform.validation.validate import validate\n"
        "from meshform.render import workers\n"
        "from meshform.render.plan import plan_stacks\n"
        f"open({str(runs)!r}, 'a').write('run\\n')\n"
        f"plans = plan_stacks(validate({str(root)!r}, cache=False).mesh)[:2]\n"
        "print(sorted(s.name for s in workers.build(plans, jobs=1, in_process_max=0)))\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['bootstrap', 'platform']"
    assert runs.read_text() == "run\n"


def _session(sid: int) -> set[int]:
    """The processes of session `sid` (a worker leads its own; its node is in it)."""
    members = set()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            members.add(int(entry.name))
    return members


@pytest.fixture
def room_for_a_worker(monkeypatch):
    """started_early starts a worker only with a core and memory to spare: here, always."""
    from meshform.render import workers

    monkeypatch.setattr(workers, "_cores", lambda: 2)
    monkeypatch.setattr(workers, "_available_memory", lambda: 4 * workers.WORKER_MEMORY)


def test_a_worker_started_early_builds_the_few_stacks_and_leaves_nothing(tmp_path, room_for_a_worker):
    from meshform.render import workers

    plans = plan_stacks(validate(copy_example(tmp_path), cache=False).mesh)[:3]
    here = {b.name: b.json for b in workers.build(plans, jobs=0)}
    with workers.started_early():
        (worker,) = workers._EARLY
        early = {b.name: b.json for b in workers.build(plans)}
        assert not workers._EARLY  # taken by build
    assert early == here and worker.served == 3
    assert not _session(worker.process.pid) and not Path(worker.tmp).exists()


def test_an_unused_early_worker_is_killed_with_its_node(room_for_a_worker):
    import time

    from meshform.render import workers

    with workers.started_early():
        (worker,) = workers._EARLY
        deadline = time.monotonic() + 120
        while len(_session(worker.process.pid)) < 2 and time.monotonic() < deadline:  # node has started
            time.sleep(0.2)
        assert len(_session(worker.process.pid)) >= 2
    assert not _session(worker.process.pid) and not Path(worker.tmp).exists()


def test_only_a_large_mesh_loads_cdktn_early(tmp_path, room_for_a_worker):
    from meshform.cli.common import EARLY_WORKER_DOMAINS, cdktn_loading_early
    from meshform.render import workers

    root = copy_example(tmp_path)
    with cdktn_loading_early(root):
        assert not workers._EARLY  # a small mesh builds sooner in-process
    for i in range(EARLY_WORKER_DOMAINS):
        (root / "domains" / f"extra{i}.yaml").write_text("")
    with cdktn_loading_early(root):
        assert len(workers._EARLY) == 1
    assert not workers._EARLY
