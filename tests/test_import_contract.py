"""The import contract (issue 22): which part may import which, read from the source's AST.

Why a walk of the AST rather than a run-time check: an import inside a function or under
`TYPE_CHECKING` is a dependency all the same (it is how a knot hides), and the walk sees them all.
The rules, from `ARCHITECTURE.md`:

- the delivery layer (`bot/delivery/`) sends what it is given: it imports no service, no handler
  and not the app (a service or the app hands it what it needs);
- nothing that handles an update or runs a scheduled task (`handlers/`, `bot/services/`,
  `bot/delivery/`, `bot/scheduler.py`) imports the app (`bot/app.py`): they take the runtime;
- no import cycle among the project's modules, the emulator apart (it is its own program).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers")


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """The project's modules this one imports (a `from package import module` names the module),
    with the line, wherever the import sits."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                child = f"{base}.{alias.name}"
                yield (child if child in known else base), node.lineno


def graph() -> dict[str, list[tuple[str, int]]]:
    found = modules()
    known = set(found)
    return {name: [(target, line) for target, line in imports_of(name, path, known)
                   if target in known and target != name]
            for name, path in found.items()}


def inside(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_delivery_layer_imports_no_service_handler_or_app() -> None:
    wrong = [f"{name}:{line} imports {target}" for name, edges in graph().items()
             if inside(name, "bot.delivery") for target, line in edges
             if inside(target, "bot.services", "handlers", "bot.app")]
    assert wrong == [], wrong


def test_nothing_that_handles_or_runs_tasks_imports_the_app() -> None:
    wrong = [f"{name}:{line} imports {target}" for name, edges in graph().items()
             if inside(name, "handlers", "bot.services", "bot.delivery", "bot.scheduler",
                       "bot.intake")
             for target, line in edges if inside(target, "bot.app")]
    assert wrong == [], wrong


def cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_outside_the_emulator() -> None:
    edges = {name: sorted({t for t, _ in targets if not inside(t, "bot.emulator")})
             for name, targets in graph().items() if not inside(name, "bot.emulator")}
    assert cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """So that the test above cannot pass by finding nothing in any graph."""
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": []}) == []


def test_each_capability_has_one_folder_in_each_layer_and_one_contract() -> None:
    """A newcomer finds a capability by its folder: the same names under `handlers/` and
    `bot/services/`, and each handlers folder registers through `register` and `task_kinds`."""
    import handlers

    def folders(base: Path) -> set[str]:
        return {p.name for p in base.iterdir() if (p / "__init__.py").exists()} - {"shared"}

    in_handlers = folders(ROOT / "handlers")
    assert in_handlers == folders(ROOT / "bot" / "services")
    assert {"membership", "safety", "alerts", "polls", "actions", "digests",
            "solidarity"} <= in_handlers
    wired = {c.__name__.rpartition(".")[2] for c in handlers.CAPABILITIES}
    assert wired == in_handlers
    for capability in handlers.CAPABILITIES:
        assert callable(capability.register) and callable(capability.task_kinds)
    loose = sorted(p.name for base in (ROOT / "handlers", ROOT / "bot" / "services")
                   for p in base.glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"modules outside a capability folder: {loose}"


def test_files_reach_a_chat_only_through_the_reply_helpers() -> None:
    """A photo or document sent by hand would skip the chat's policy (protected, recorded for
    the low-profile deletion); `handlers/shared/common.py` is the one place that sends them
    outside the outbox (issue 23, item 5)."""
    senders = {"send_photo", "send_document", "send_video", "send_audio", "send_animation",
               "send_voice", "send_media_group"}
    wrong = []
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        if path == ROOT / "handlers" / "shared" / "common.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in senders:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")
    assert wrong == [], wrong
