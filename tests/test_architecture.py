"""The three parts import one way only (docs/architecture.md).

Each check imports a package and every module in it in a fresh interpreter, then looks at what
ended up in ``sys.modules``: an import that crosses a boundary shows there even when it is hidden
in a function body that the import itself does not run, as long as some module runs it at import.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Everything an interpreter holds after importing ``package`` and all of its modules.
_PROBE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(getattr(package, "__path__", []), package.__name__ + "."):
    importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""

PARTS = ("avala_mcp.client", "avala_mcp.server", "avala_mcp.embedded", "avala_mcp.commands")
SHARED = (
    "avala_mcp.contract",
    "avala_mcp.filters",
    "avala_mcp.filter_eval",
    "avala_mcp.settings",
    "avala_mcp.net",
    "avala_mcp.redaction",
    "avala_mcp.logs",
)

# What each package must never pull in, directly or through another module.
FORBIDDEN = {
    "avala_mcp.client": ("mcp", "avala_mcp.server", "avala_mcp.embedded", "avala_mcp.commands"),
    "avala_mcp.embedded": ("mcp", "avala_mcp.client", "avala_mcp.server", "avala_mcp.commands"),
    "avala_mcp.server": ("avala_mcp.embedded", "avala_mcp.commands"),
    **{module: PARTS for module in SHARED},
}


def imported_by(module: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, module], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def crossing(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for f in forbidden if m == f or m.startswith(f + "."))


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_imports_go_one_way(module: str) -> None:
    modules = imported_by(module)
    assert module in modules
    assert crossing(modules, FORBIDDEN[module]) == []


def test_the_probe_sees_a_crossing() -> None:
    # The commands put the parts together, so importing them must show both sides: proof that
    # the probe would notice a part importing another.
    modules = imported_by("avala_mcp.commands")
    assert crossing(modules, ("avala_mcp.embedded",)) != [] or crossing(
        modules, ("avala_mcp.server",)
    )
