"""nsexplorer.model names every model class and helper, the netlink ones (model_net)
included, and builds those only on first use."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from nsexplorer import model, model_net


def _public(module: object) -> set[str]:
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text())
    return {
        n.name
        for n in tree.body
        if isinstance(n, ast.ClassDef | ast.FunctionDef) and not n.name.startswith("_")
    }


def test_all_lists_every_public_name_here_and_in_model_net() -> None:
    assert set(model.__all__) == _public(model) | _public(model_net)
    for name in model.__all__:
        assert getattr(model, name) is not None
    assert model.Interface is model_net.Interface  # the same class, not a copy


def test_the_netlink_classes_are_built_only_when_asked_for() -> None:
    code = (
        "import sys, nsexplorer.model as m\n"
        "assert 'nsexplorer.model_net' not in sys.modules\n"
        "from nsexplorer.model import Route\n"
        "assert 'nsexplorer.model_net' in sys.modules and Route.__name__ == 'Route'\n"
        "try:\n    m.NoSuchThing\n"
        "except AttributeError:\n    pass\n"
        "else:\n    raise SystemExit(1)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
