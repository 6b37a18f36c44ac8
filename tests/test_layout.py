"""The source tree shows the flow: one package per stage, imports pointing one way.

Reads every module's imports with `ast` (nothing is imported or run) — at module level, inside
functions and under `TYPE_CHECKING` alike, since an import hidden in a function is still an
arrow — and fails on an import from a lower stage up to a higher one, on a cycle between
modules of different stages, and on any cycle that runs when the code runs. It also holds what
the last reshaping set up: exit codes from `ExitCode` (never literals), short modules, and
few modules at the top.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "meshform"

# The stages, lowest first. A module may import from its own stage and from lower ones only.
# "shared" is what every stage uses: the modules at the top of the package.
STAGES = (
    "shared",
    "read",
    "spec",
    "model",
    "validation",
    "catalog",
    "constraints",
    "apply_order",
    "render",
    "synth",
    "review",
    "authoring",
    "live",
    "cli",
)
TOP_MODULES_ALLOWED = 6  # besides __init__ and __main__
LONGEST_MODULE = 400  # lines


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def stage_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return "cli" if module.endswith("__main__") else "shared"
    return parts[1] if f"meshform.{parts[1]}" in MODULES and (PACKAGE / parts[1]).is_dir() else "shared"


def owning_module(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(module: str) -> list[tuple[str, int, bool]]:
    """(imported meshform module, line, runs at run time) for each import in `module`."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        for name in names:
            target = owning_module(name) if name.startswith("meshform") else None
            if target and target != module:
                found.append((target, node.lineno, not _under_type_checking(node, parents)))
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_stage_package_says_what_it_takes_and_gives():
    for stage in STAGES[1:]:
        init = PACKAGE / stage / "__init__.py"
        assert init.is_file(), f"stage {stage} is not a package"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "Takes:" in doc and "Gives:" in doc, (
            f"meshform.{stage}: its docstring must say what the stage takes and gives"
        )
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(STAGES[1:]), (
        f"a package that is no stage, or a stage without a package: {packages ^ set(STAGES[1:])}"
    )


def test_few_modules_at_the_top():
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= TOP_MODULES_ALLOWED, f"{len(top)} modules at the top of meshform: {top}"


def test_imports_point_from_later_stages_to_earlier_ones():
    upward = []
    for module, imports in GRAPH.items():
        here = STAGES.index(stage_of(module))
        for target, line, _ in imports:
            if STAGES.index(stage_of(target)) > here:
                upward.append(
                    f"{MODULES[module].relative_to(SRC)}:{line}: {module} ({stage_of(module)}) imports {target} ({stage_of(target)})"
                )
    assert not upward, "imports from a lower stage up to a higher one:\n" + "\n".join(upward)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_cycle_between_stages():
    edges: dict[str, set[str]] = {}
    for module, imports in GRAPH.items():
        for target, _, _ in imports:
            if stage_of(target) != stage_of(module):
                edges.setdefault(stage_of(module), set()).add(stage_of(target))
    assert not cycles(edges)


def test_no_import_cycle_between_modules():
    """No cycle at all, counting imports inside functions; references only for type checking
    may point back within one stage (a model's types naming each other)."""
    edges: dict[str, set[str]] = {}
    for module, imports in GRAPH.items():
        for target, _, runs in imports:
            if runs or stage_of(target) != stage_of(module):
                edges.setdefault(module, set()).add(target)
    assert not cycles(edges)


def test_the_checker_sees_a_cycle_and_an_upward_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert STAGES.index(stage_of("meshform.read.load")) < STAGES.index(stage_of("meshform.render.domain"))
    assert stage_of("meshform.findings") == "shared"


def test_modules_stay_short():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > LONGEST_MODULE}
    assert not long, f"modules past {LONGEST_MODULE} lines: {long}"


EXIT_LITERAL = re.compile(r"\b(?:typer\.Exit|sys\.exit|SystemExit|os\._exit|exit_with)\(\s*(?:code\s*=\s*)?\d+")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_exit_codes_come_from_the_table(module):
    text = MODULES[module].read_text(encoding="utf-8")
    literal = [
        f"{MODULES[module].relative_to(SRC)}:{n}: {line.strip()}"
        for n, line in enumerate(text.splitlines(), 1)
        if EXIT_LITERAL.search(line)
    ]
    assert not literal, "exit codes are ExitCode members, never literals:\n" + "\n".join(literal)
