"""Start freezegun without its scan of every loaded module on every start.

To replace the clock functions a module bound at import (`from time import monotonic`,
`from datetime import datetime`), freezegun's `start()` looks through all of `sys.modules`: it
takes `dir()` of ~2,800 modules and hashes their names (12-20 ms), and the first time it
`getattr`s every name, which imports ~300 lazy submodules (scipy's: 0.4-1.5 s). A suite starts
a fake per test, so we find those bindings ourselves, from an index: each module is read once
through its `__dict__` (which imports nothing), and read again only when its globals change in
number or it is a new module under the same name; when no module changed since the last start,
the last start's findings are used as they are. freezegun does everything else as usual: its
fakes, its factory, its ignore list, and `stop()`, which undoes our replacements with its own.

Two blind spots, both freezegun's own or narrower: a global rebound to a clock function while
its module keeps the same number of names is found at the next change (freezegun's cache keys
on the set of names, so it misses that too), and a name a module serves only through a module
`__getattr__` is left alone (freezegun's first scan imports such names to look at them).
"""

from __future__ import annotations

import operator
import sys
import types
import warnings
from dataclasses import dataclass
from typing import Any

from freezegun import api as freezegun_api
from freezegun import freeze_time

__all__ = ["start_frozen"]

#: An ignore prefix that every module name has: freezegun's own scan then skips every module.
_EVERY_MODULE = ""

#: The ignore prefixes the index was built for, and the index: module name -> (id of the
#: module, number of its globals, names bound to a real clock object). A module freezegun skips
#: is indexed with no names. An object standing in for a module (a CFFI library, `typing.io`)
#: has no globals to count: it is read once.
_index: tuple[tuple[str, ...], dict[str, tuple[int, int, tuple[str, ...]]]] = ((), {})
_STAND_IN = -1


def start_frozen(moment: Any, ignore: list[str]) -> Any:
    """Start `freeze_time(moment, ignore=ignore)` and return the started freezer."""
    freezer = freeze_time(moment, ignore=ignore)
    if freezegun_api.freeze_factories or not _knows(freezer):
        freezer.start()  # stacked freezegun patches nothing; unknown internals scan as usual
        return freezer
    ignored = freezer.ignore
    freezer.ignore = (_EVERY_MODULE, *ignored)
    freezer.start()
    freezer.ignore = freezegun_api.ignore_lists[-1] = ignored  # what "real time" callers are
    fakes = {id(freezer.reals[id(fake)]): fake for fake in _fakes(freezer)}
    with warnings.catch_warnings():  # as freezegun's scan: reading `typing.io` warns
        warnings.simplefilter("ignore")
        for module, name, real in _bound_clocks(fakes, ignored):
            setattr(module, name, fakes[id(real)])
            freezer.undo_changes.append((module, name, real))
    return freezer


def _knows(freezer: Any) -> bool:
    """Whether this freezegun keeps what we rely on (1.4 and 1.5 do; checked, not assumed)."""
    return all(
        hasattr(freezer, attribute) for attribute in ("ignore", "undo_changes", "start", "stop")
    ) and isinstance(getattr(freezegun_api, "ignore_lists", None), list)


def _fakes(freezer: Any) -> list[Any]:
    """freezegun's fakes (`FakeDatetime`, `fake_time`, ...), known after `start()`."""
    return [getattr(freezegun_api, name) for name in freezer.fake_names]


@dataclass
class _Scan:
    """What `sys.modules` held at the last start, and the clock globals found in it."""

    ignored: tuple[str, ...]
    modules: list[tuple[str, Any]]
    namespaces: list[dict[str, Any]] | None  # each module's globals (None: a stand-in)
    sizes: list[int] | None
    found: list[tuple[Any, str]]


_last_scan: _Scan | None = None
_namespace_of = operator.attrgetter("__dict__")
_module_of = operator.itemgetter(1)


def _bound_clocks(fakes: dict[int, Any], ignored: tuple[str, ...]):
    """(module, name, real object) for every module global freezegun would replace."""
    global _last_scan
    modules = list(sys.modules.items())
    last = _last_scan
    same_modules = last is not None and last.modules == modules  # by name and identity, in C
    # A module's namespace is the same dict for its life: counting the last scan's dicts reads
    # no module object (the ~2,600 reads that cost most once the client has filled the caches).
    namespaces = last.namespaces if same_modules else _namespaces(modules)
    sizes = None if namespaces is None else _sizes(namespaces)
    unchanged = (
        same_modules and sizes is not None and (last.ignored, last.sizes) == (ignored, sizes)
    )
    if last is None or not unchanged:
        found = _find(modules, fakes, ignored)
        _last_scan = last = _Scan(ignored, modules, namespaces, sizes, found)
    for module, name in last.found:
        value = _attribute(module, name)
        if id(value) in fakes:  # still the real object: a name may have been rebound since
            yield module, name, value


def _sizes(namespaces: list[dict[str, Any]]) -> list[int] | None:
    """How many globals each module has, counted in C (None if one cannot say)."""
    try:
        return list(map(len, namespaces))
    except TypeError:
        return None


def _namespaces(modules: list[tuple[str, Any]]) -> list[dict[str, Any]] | None:
    """Each module's globals, gathered in C (None if one has no namespace)."""
    try:
        return list(map(_namespace_of, map(_module_of, modules)))
    except AttributeError:
        return None


def _find(
    modules: list[tuple[str, Any]], fakes: dict[int, Any], ignored: tuple[str, ...]
) -> list[tuple[Any, str]]:
    """(module, name) of the clock globals, each module read from the index where it is known."""
    global _index
    if _index[0] != ignored:
        _index = (ignored, {})
    index = _index[1]
    found = []
    for module_name, module in modules:
        size = len(module.__dict__) if isinstance(module, types.ModuleType) else _STAND_IN
        known = index.get(module_name)
        if known is None or known[0] != id(module) or known[1] != size:
            names = _names_bound(module_name, module, fakes, ignored)
            known = index[module_name] = (id(module), size, names)
        found.extend((module, name) for name in known[2])
    return found


def _names_bound(
    module_name: str, module: Any, fakes: dict[int, Any], ignored: tuple[str, ...]
) -> tuple[str, ...]:
    """The globals of `module` bound to a real clock object, unless freezegun skips it.

    The modules skipped are freezegun's: none, its own, ignored prefixes, six.moves, and `time`
    and `datetime` themselves (patched at their source). A module is read through its
    `__dict__`, which imports nothing; a stand-in as freezegun reads it, by `dir()`.
    """
    if module is None or module_name == freezegun_api.__name__:
        return ()
    if module_name.startswith(ignored) or module_name.endswith(".six.moves"):
        return ()
    if getattr(module, "__name__", None) in (None, "datetime", "time"):
        return ()
    if isinstance(module, types.ModuleType):
        namespace = list(vars(module).items())
    else:
        namespace = [(name, _attribute(module, name)) for name in _dir(module)]
    return tuple(name for name, value in namespace if id(value) in fakes)


def _dir(module: Any) -> list[str]:
    try:
        return dir(module)
    except (ImportError, TypeError):
        return []


def _attribute(module: Any, name: str) -> Any:
    try:
        return getattr(module, name)
    except (ImportError, AttributeError, TypeError):
        return None
