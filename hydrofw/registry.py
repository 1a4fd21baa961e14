"""Plugin discovery and the registry of readers, processors and exporters.

Plugins are found through entry points in the group ``hydrofw`` (loaded lazily, once, on first
use). A plugin that fails to import or raises (or calls ``sys.exit``) inside a registry hook is
recorded as *broken* with its error and skipped; the others keep working. A plugin whose event
hook (``hydrofw_record_read``, campaign hooks) raises when called is marked *failed*, named with
the hook, unregistered, and the work goes on without it (:meth:`Registry.call_hook`,
:meth:`Registry.apply_record_hooks`); :attr:`Registry.failures` lists what happened. Two
plugins registering the same name make that name unusable, with an error naming both;
everything else keeps working.
``HYDROFW_LOAD_PLUGINS=a,b`` loads exactly the named entry points (empty: none but built-ins).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import pluggy
import pyarrow as pa

from .errors import PluginConflictError, PluginError
from .hookspec import PROJECT, HydrofwSpec
from .source import Source

__all__ = [
    "Reader",
    "Processor",
    "Exporter",
    "NoParams",
    "PluginInfo",
    "Registry",
    "get_registry",
    "refresh",
    "HydrofwPluginWarning",
]

ENTRY_POINT_GROUP = "hydrofw"


class HydrofwPluginWarning(UserWarning):
    """A plugin could not be loaded or misbehaved; it was skipped."""


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


@attrs.frozen
class NoParams:
    """Parameter class of processors that take no parameters."""


@attrs.frozen
class Reader:
    """A reader of raw instrument data.

    ``sniff(source) -> float`` returns a confidence in [0, 1] that the reader can open the source
    (cheap: magic bytes, file names). ``read(source, **options)`` yields records of ``table``.
    """

    name: str
    table: str
    sniff: Callable[[Source], float]
    read: Callable[..., Iterable[Any]]
    description: str = ""
    formats: tuple[str, ...] = attrs.field(default=(), converter=_names)
    extensions: tuple[str, ...] = attrs.field(default=(), converter=_names)
    url: str = ""
    plugin: str = ""


@attrs.frozen
class Processor:
    """A batch processor: ``process(table, params) -> table``.

    ``params`` is an ``attrs`` class (validated on construction, serialised to JSON into
    ``history``). Output rows carry in ``id`` the id of the row they derive from; the core
    replaces it by a stable derived id.
    """

    name: str
    input_table: str
    output_table: str
    process: Callable[[pa.Table, Any], pa.Table]
    params: type = NoParams
    description: str = ""
    plugin: str = ""


@attrs.frozen
class Exporter:
    """An exporter: ``export(table, destination, **options)`` writes one table."""

    name: str
    export: Callable[..., None]
    tables: tuple[str, ...] = attrs.field(default=("*",), converter=_names)
    extensions: tuple[str, ...] = attrs.field(default=(), converter=_names)
    description: str = ""
    plugin: str = ""

    def accepts(self, table: str | None) -> bool:
        return "*" in self.tables or (table is not None and table in self.tables)


@attrs.define
class PluginInfo:
    """What `hydrofw plugins` shows for one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    status: str = "ok"  # "ok", "broken" (at load) or "failed" (a hook raised when called)
    error: str | None = None
    readers: list[str] = attrs.field(factory=list)
    processors: list[str] = attrs.field(factory=list)
    exporters: list[str] = attrs.field(factory=list)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


_KINDS = {
    "readers": ("hydrofw_register_readers", Reader),
    "processors": ("hydrofw_register_processors", Processor),
    "exporters": ("hydrofw_register_exporters", Exporter),
}


class Registry:
    """Plugins and what they provide. Use :func:`get_registry` for the process-wide one."""

    def __init__(self, *, entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(HydrofwSpec)
        self.plugins: dict[str, PluginInfo] = {}
        self.readers: dict[str, Reader] = {}
        self.processors: dict[str, Processor] = {}
        self.exporters: dict[str, Exporter] = {}
        self.conflicts: dict[str, tuple[str, ...]] = {}
        #: (plugin, hook, error) of every plugin failure at call time, in order.
        self.failures: list[tuple[str, str, str]] = []
        from . import builtin

        self.add_plugin(builtin, "hydrofw", distribution="hydrofw", version=_version("hydrofw"))
        if entry_points:
            self._load_entry_points()

    # -- loading ------------------------------------------------------------------------------
    def _load_entry_points(self) -> None:
        wanted = os.environ.get("HYDROFW_LOAD_PLUGINS")
        names = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
        for ep in md.entry_points(group=ENTRY_POINT_GROUP):
            if names is not None and ep.name not in names:
                continue
            dist = ep.dist.name if ep.dist is not None else None
            version = ep.dist.version if ep.dist is not None else None
            try:
                obj = ep.load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # a broken plugin (even sys.exit) must not break others
                self._broken(PluginInfo(ep.name, dist, version), exc, "failed to import")
                continue
            self.add_plugin(obj, ep.name, distribution=dist, version=version)

    def add_plugin(
        self,
        plugin: object,
        name: str,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> PluginInfo:
        """Register a plugin object (module or instance) and collect what it provides."""
        info = PluginInfo(name, distribution, version)
        if name in self.plugins:
            self._broken(info, None, f"plugin name {name!r} is already used by another plugin")
            return info
        try:
            self.pm.register(plugin, name=name)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            self._broken(info, exc, "was rejected by the plugin manager")
            return info
        self.plugins[name] = info
        for kind, (hook, cls) in _KINDS.items():
            if not self._collect(info, plugin, kind, hook, cls):
                return info
        self._collect_schemas(info, plugin)
        return info

    def _impl(self, plugin: object, hook: str) -> pluggy.HookImpl | None:
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin is plugin:
                return impl
        return None

    def _collect(self, info: PluginInfo, plugin: object, kind: str, hook: str, cls: type) -> bool:
        impl = self._impl(plugin, hook)
        if impl is None:
            return True
        found: list[Any] = []

        def register(obj: Any) -> None:
            if not isinstance(obj, cls):
                raise PluginError(f"register() expects a {cls.__name__}, got {type(obj).__name__}")
            found.append(obj)

        try:
            impl.function(**{a: register for a in impl.argnames if a == "register"})
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            self._broken(info, exc, f"raised in {hook}")
            return False
        table: dict[str, Any] = getattr(self, kind)
        for obj in found:
            obj = attrs.evolve(obj, plugin=info.name)
            if obj.name in table or obj.name in self.conflicts:
                owners = self.conflicts.get(obj.name, (table.pop(obj.name).plugin,))
                self.conflicts[obj.name] = (*owners, info.name)
            else:
                table[obj.name] = obj
            getattr(info, kind).append(obj.name)
        return True

    def _collect_schemas(self, info: PluginInfo, plugin: object) -> None:
        impl = self._impl(plugin, "hydrofw_register_schemas")
        if impl is None:
            return
        from .schema import register_schema

        try:
            impl.function(**{a: register_schema for a in impl.argnames if a == "register"})
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            self._broken(info, exc, "raised in hydrofw_register_schemas")

    def _broken(
        self, info: PluginInfo, exc: BaseException | None, what: str, status: str = "broken"
    ) -> None:
        detail = f"{type(exc).__name__}: {exc}" if exc is not None else ""
        info.status = status
        info.error = f"{what}: {detail}" if detail else what
        # Drop whatever the plugin registered before it failed.
        for kind in _KINDS:
            table: dict[str, Any] = getattr(self, kind)
            for n in getattr(info, kind):
                if n in table and table[n].plugin == info.name:
                    del table[n]
            getattr(info, kind).clear()
        if self.pm.has_plugin(info.name):
            self.pm.unregister(name=info.name)
        self.plugins[info.name] = info
        warnings.warn(
            f"hydrofw plugin {info.name!r} is {status} and was skipped: {info.error}",
            HydrofwPluginWarning,
            stacklevel=3,
        )

    # -- calling plugin hooks safely ----------------------------------------------------------
    def fail(self, plugin: str, hook: str, exc: BaseException) -> None:
        """Mark ``plugin`` failed because ``hook`` raised ``exc`` when called; unregister it
        (its readers, processors and exporters go too) and record the failure."""
        info = self.plugins.get(plugin) or PluginInfo(plugin)
        self._broken(info, exc, f"raised in {hook}", status="failed")
        self.failures.append((plugin, hook, info.error or ""))

    def problems(self) -> list[dict[str, str]]:
        """Every plugin that is not working: name, status (broken/failed) and the error, which
        names the hook or step that failed."""
        return [
            {"plugin": p.name, "status": p.status, "error": p.error or ""}
            for p in self.plugins.values()
            if p.status != "ok"
        ]

    def _impls(self, hook: str) -> list[tuple[str, Callable[..., Any], list[str]]]:
        out = []
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            name = self.pm.get_name(impl.plugin) or impl.plugin_name
            out.append((name, impl.function, list(impl.argnames)))
        return out

    def call_hook(
        self,
        hook: str,
        *,
        firstresult: bool = False,
        reraise: tuple[type[BaseException], ...] = (),
        **kwargs: Any,
    ) -> list[Any]:
        """Call every implementation of ``hook`` (pluggy order), each isolated: one that raises
        (or calls ``sys.exit``) marks its plugin failed and the others still run. Exceptions of
        the ``reraise`` types (e.g. a :class:`HydrofwError` reporting bad campaign data) pass
        through. Returns the non-None results (only the first when ``firstresult``)."""
        results: list[Any] = []
        for name, function, argnames in self._impls(hook):
            try:
                result = function(**{a: kwargs[a] for a in argnames if a in kwargs})
            except (KeyboardInterrupt, *reraise):
                raise
            except BaseException as exc:
                self.fail(name, hook, exc)
                continue
            if result is not None:
                results.append(result)
                if firstresult:
                    break
        return results

    def apply_record_hooks(self, record: Any, path: Any, reader: str) -> Any:
        """``record`` passed through every ``hydrofw_record_read`` in turn; a hook that raises
        or returns something that is not a record of the same kind marks its plugin failed
        and is skipped (the record goes on unchanged)."""
        for name, function, argnames in self._impls("hydrofw_record_read"):
            kwargs = {"record": record, "path": path, "reader": reader}
            try:
                replaced = function(**{a: kwargs[a] for a in argnames if a in kwargs})
                if replaced is not None and type(replaced) is not type(record):
                    raise PluginError(
                        f"returned {type(replaced).__name__}, not a {type(record).__name__}"
                    )
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                self.fail(name, "hydrofw_record_read", exc)
                continue
            record = replaced if replaced is not None else record
        return record

    def probe(self) -> None:
        """Exercise every ``hydrofw_record_read`` once with a small synthetic record, so that
        `hydrofw plugins` can name a plugin whose per-record hook fails."""
        import numpy as np

        from .records import Spectrum

        probe = Spectrum(
            nucleus="1H",
            observe_frequency_hz=4e8,
            spectral_width_hz=1e4,
            re=np.zeros(4),
            im=np.zeros(4),
            source_path="<probe>",
        )
        from pathlib import Path

        self.apply_record_hooks(probe, Path("<probe>"), "probe")

    # -- lookup -------------------------------------------------------------------------------
    def _lookup(self, kind: str, name: str) -> Any:
        if name in self.conflicts:
            owners = " and ".join(repr(p) for p in self.conflicts[name])
            raise PluginConflictError(
                f"{kind[:-1]} {name!r} is registered by several plugins ({owners}); "
                f"uninstall one or disable it with HYDROFW_LOAD_PLUGINS"
            )
        table: dict[str, Any] = getattr(self, kind)
        if name in table:
            return table[name]
        if kind == "readers":
            for r in table.values():
                if name in r.formats:
                    return r
        known = ", ".join(sorted(table)) or "none"
        raise PluginError(f"no {kind[:-1]} named {name!r} (available: {known})")

    def reader(self, name: str) -> Reader:
        return self._lookup("readers", name)  # type: ignore[no-any-return]

    def processor(self, name: str) -> Processor:
        return self._lookup("processors", name)  # type: ignore[no-any-return]

    def exporter(self, name: str) -> Exporter:
        return self._lookup("exporters", name)  # type: ignore[no-any-return]

    def sniff(self, source: Source) -> list[tuple[float, Reader]]:
        """Readers that claim ``source``, best first (confidence > 0). A reader whose sniff
        raises is treated as not claiming the source."""
        scored = []
        for r in self.readers.values():
            try:
                c = float(r.sniff(source))
            except Exception:
                c = 0.0
            if c > 0:
                scored.append((c, r))
        scored.sort(key=lambda cr: -cr[0])
        return scored

    def record_read_hooks(self) -> Iterator[Callable[..., Any]]:
        """Implementations of ``hydrofw_record_read``, in plugin registration order."""
        for impl in self.pm.hook.hydrofw_record_read.get_hookimpls():
            yield impl.function

    def describe(self) -> list[dict[str, Any]]:
        """Every plugin with its status, version and what it provides."""
        out = [p.as_dict() for p in self.plugins.values()]
        for d in out:
            d["conflicts"] = sorted(
                n for n, owners in self.conflicts.items() if d["name"] in owners
            )
        return out


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


_REGISTRY: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry()
    return _REGISTRY


def refresh() -> Registry:
    """Forget the loaded plugins and discover them again (e.g. after installing one)."""
    global _REGISTRY
    _REGISTRY = None
    return get_registry()
