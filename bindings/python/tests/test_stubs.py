"""The type stubs (_lexguard.pyi) agree with the native module."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import lexguard
from lexguard import _lexguard

STUB = Path(lexguard.__file__).parent / "_lexguard.pyi"
TREE = ast.parse(STUB.read_text(encoding="utf-8"))


def stub_classes():
    return {n.name: n for n in TREE.body if isinstance(n, ast.ClassDef)}


def stub_functions():
    return {n.name: n for n in TREE.body if isinstance(n, ast.FunctionDef)}


def is_property(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in fn.decorator_list)


def stub_params(fn: ast.FunctionDef, skip_first: bool):
    """(name, kind, default-or-empty) for each parameter of a stub function."""
    a = fn.args
    out = []
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for i, (p, d) in enumerate(zip(positional, defaults)):
        kind = "positional_only" if i < len(a.posonlyargs) else "positional_or_keyword"
        out.append((p.arg, kind, ast.literal_eval(d) if d is not None else inspect.Parameter.empty))
    if a.vararg:
        out.append((a.vararg.arg, "var_positional", inspect.Parameter.empty))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((p.arg, "keyword_only", ast.literal_eval(d) if d is not None else inspect.Parameter.empty))
    if a.kwarg:
        out.append((a.kwarg.arg, "var_keyword", inspect.Parameter.empty))
    return out[1:] if skip_first else out


def runtime_params(obj, skip_first: bool):
    sig = inspect.signature(obj)
    params = list(sig.parameters.values())
    if skip_first and params and params[0].name in ("self", "cls"):
        params = params[1:]
    # "self, /" makes the first parameter positional-only; the rest keep their kinds.
    return [(p.name, p.kind.name.lower(), p.default) for p in params]


def same_params(stub, runtime):
    # A positional-only marker on self alone is not visible in the stub: compare names, kinds
    # (positional-only vs positional-or-keyword is not distinguished) and defaults.
    norm = lambda ps: [(n, "positional" if k.startswith("positional") else k, d) for n, k, d in ps]  # noqa: E731
    return norm(stub) == norm(runtime)


def test_every_stub_name_exists():
    for name in list(stub_classes()) + list(stub_functions()) + ["__version__"]:
        assert hasattr(_lexguard, name), name


@pytest.mark.parametrize("cls_name", sorted(stub_classes()))
def test_stub_class_members(cls_name):
    node = stub_classes()[cls_name]
    cls = getattr(_lexguard, cls_name)
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            name = item.name
            if name == "__new__":
                assert same_params(stub_params(item, skip_first=True), runtime_params(cls, False)), cls_name
                continue
            assert hasattr(cls, name), f"{cls_name}.{name} missing at run time"
            attr = inspect.getattr_static(cls, name)
            if is_property(item):
                assert inspect.isdatadescriptor(attr) and not callable(attr), f"{cls_name}.{name} is not a property"
                continue
            assert callable(getattr(cls, name)), f"{cls_name}.{name} is not callable"
            if name.startswith("__"):
                continue  # slot wrappers (__eq__, __len__) carry CPython's own parameter names
            try:
                rt = runtime_params(getattr(cls, name), skip_first=True)
            except (TypeError, ValueError):
                continue  # not inspectable (some slot wrappers)
            assert same_params(stub_params(item, skip_first=True), rt), (
                f"{cls_name}.{name}: stub {stub_params(item, True)} != runtime {rt}"
            )
        elif isinstance(item, ast.AnnAssign) and cls_name == "WordlistError":
            pass  # instance attributes: checked below


@pytest.mark.parametrize("fn_name", sorted(stub_functions()))
def test_stub_functions(fn_name):
    node = stub_functions()[fn_name]
    rt = runtime_params(getattr(_lexguard, fn_name), skip_first=False)
    assert same_params(stub_params(node, skip_first=False), rt), (fn_name, rt)


def test_wordlist_error_attributes(tmp_path):
    declared = [
        i.target.id for i in stub_classes()["WordlistError"].body if isinstance(i, ast.AnnAssign)
    ]
    assert set(declared) == {"file", "line", "kind", "message"}
    with pytest.raises(lexguard.WordlistError) as e:
        lexguard.Filter(lists=[tmp_path / "missing"])
    for name in declared:
        assert hasattr(e.value, name), name


def test_every_public_runtime_name_is_in_the_stub():
    stubbed = set(stub_classes()) | set(stub_functions()) | {"__version__"}
    public = {n for n in dir(_lexguard) if not n.startswith("__")}
    assert public <= stubbed, public - stubbed
    for cls_name, node in stub_classes().items():
        cls = getattr(_lexguard, cls_name)
        in_stub = {i.name for i in node.body if isinstance(i, ast.FunctionDef)}
        in_stub |= {i.target.id for i in node.body if isinstance(i, ast.AnnAssign)}
        own = {n for n in vars(cls) if not n.startswith("_")}
        assert own <= in_stub, f"{cls_name}: not in the stub: {own - in_stub}"


def test_package_reexports_match_stub():
    for name in lexguard.__all__:
        assert getattr(lexguard, name) is getattr(_lexguard, name)
