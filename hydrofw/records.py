"""Frozen, validated ``attrs`` records and their lossless conversion to and from Arrow.

Each record class names its table (``__table__``); its attribute names are the column names of
that table's schema (``schemas/<table>.json``), units in the names. :func:`to_table` and
:func:`from_table` convert lists of records to ``pyarrow.Table`` and back without loss (NaN and
empty arrays included). Array columns are float64 numpy arrays on the Python side.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import attrs
import numpy as np
import pyarrow as pa

from .errors import SchemaError, ValidationError
from .header_values import INT64
from .ids import content_id
from .nuclei import normalize_nucleus
from .schema import conform, get_schema, identify
from .validators import finite, one_of, positive

__all__ = [
    "Record",
    "HistoryStep",
    "Spectrum",
    "RelaxationCurve",
    "TransportCurve",
    "Cell",
    "Campaign",
    "Lineshape",
    "RelaxationFit",
    "Quantification",
    "TcResult",
    "Kinetics",
    "to_table",
    "from_table",
    "record_class",
]

R = TypeVar("R", bound="Record")


# ----------------------------------------------------------------------------- converters
def _f64_array(value: Any) -> np.ndarray:
    arr = np.asarray(value if value is not None else [], dtype=np.float64)
    if arr.ndim != 1:
        raise ValidationError(f"expected a 1-D array, got shape {arr.shape}")
    return arr


def _opt_f64_array(value: Any) -> np.ndarray | None:
    return None if value is None else _f64_array(value)


def _array_eq(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"expected a number, got {value!r}") from None


def _float_eq(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b or (math.isnan(a) and math.isnan(b))


def _opt_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and not value.is_integer():
        raise ValidationError(f"expected an integer, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"expected an integer, got {str(value)[:40]!r}") from None
    if not INT64[0] <= number <= INT64[1]:  # never an OverflowError from Arrow
        raise ValidationError(f"integer {str(number)[:24]} does not fit int64")
    return number


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise ValidationError(f"expected a datetime, got {value!r}")
    if value.tzinfo is None:
        raise ValidationError(f"datetime {value.isoformat()} has no time zone; give it in UTC")
    return value.astimezone(dt.UTC)


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(value or {}).items()}


def _float_map(value: Any) -> dict[str, float] | None:
    return None if value is None else {str(k): float(v) for k, v in dict(value).items()}


def _float_map_eq(a: dict[str, float] | None, b: dict[str, float] | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.keys() == b.keys() and all(_float_eq(a[k], b[k]) for k in a)


def _str_tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _nucleus(value: Any) -> str:
    # any real isotope: one outside the nuclear table is kept (readers flag nucleus_not_in_table)
    return normalize_nucleus(value, tabulated=False)


def _array() -> Any:
    return attrs.field(converter=_f64_array, eq=attrs.cmp_using(eq=_array_eq), repr=_short)


def _opt_array() -> Any:
    return attrs.field(
        default=None, converter=_opt_f64_array, eq=attrs.cmp_using(eq=_array_eq), repr=_short
    )


def _num(**kw: Any) -> Any:
    return attrs.field(default=None, converter=_opt_float, eq=attrs.cmp_using(eq=_float_eq), **kw)


def _text(**kw: Any) -> Any:
    return attrs.field(default=None, converter=_opt_str, **kw)


def _short(arr: np.ndarray | None) -> str:
    return "None" if arr is None else f"array(n={arr.size})"


def _fields(cls: type) -> Any:
    """attrs fields of a record class (records are attrs classes; the base is not)."""
    return attrs.fields(cls)


# ----------------------------------------------------------------------------- base
@attrs.frozen
class HistoryStep:
    """One processing step applied to a row; ``params_json`` replays it."""

    step: str
    plugin: str
    version: str
    params_json: str


def _history(value: Any) -> tuple[HistoryStep, ...]:
    out = []
    for h in value or ():
        out.append(h if isinstance(h, HistoryStep) else HistoryStep(**dict(h)))
    return tuple(out)


class Record:
    """Base of every record: ``__table__`` names the schema the record converts to."""

    __table__: ClassVar[str]
    _id_exclude: ClassVar[frozenset[str]] = frozenset({"id", "history", "source_path", "reader"})

    def _content_id(self) -> str:
        parts: list[Any] = [self.__table__]
        for a in _fields(type(self)):
            if a.name in self._id_exclude:
                continue
            v = getattr(self, a.name)
            if isinstance(v, dt.datetime):
                v = v.isoformat()
            parts.extend([a.name, v])
        return content_id(*parts)

    def _set_id(self) -> None:
        if getattr(self, "id", "") in (None, ""):
            object.__setattr__(self, "id", self._content_id())

    def evolve(self: R, **changes: Any) -> R:
        """A copy with ``changes`` applied (a new id is computed unless one is given)."""
        if "id" not in changes and hasattr(self, "id"):
            changes["id"] = None
        return attrs.evolve(self, **changes)  # type: ignore[misc]


# ----------------------------------------------------------------------------- raw data records
@attrs.frozen(eq=True)
class Spectrum(Record):
    """One NMR trace. Time domain: x in s (FID or echo); frequency domain: x in Hz or ppm.

    ``x = x_start + k * x_step`` for k in 0..n_points-1. ``observe_frequency_hz`` is the carrier
    (Bruker SFO1); ``reference_frequency_hz`` the frequency of 0 ppm on a ppm axis.
    """

    __table__: ClassVar[str] = "spectrum"

    nucleus: str = attrs.field(converter=_nucleus)
    observe_frequency_hz: float = attrs.field(converter=float, validator=positive)
    spectral_width_hz: float = attrs.field(converter=float, validator=positive)
    re: np.ndarray = _array()
    im: np.ndarray = _array()
    domain: str = attrs.field(default="time", validator=one_of("time", "frequency"))
    x_start: float = attrs.field(default=0.0, converter=float, validator=finite)
    x_step: float | None = _num()
    x_unit: str = attrs.field(default="s", validator=one_of("s", "Hz", "ppm"))
    n_points: int | None = attrs.field(default=None, converter=_opt_int)
    n_scans: int | None = attrs.field(default=None, converter=_opt_int)
    dwell_s: float | None = _num()
    id: str | None = _text()
    cell: str | None = _text()
    campaign: str | None = _text()
    acquired_at: dt.datetime | None = attrs.field(default=None, converter=_utc)
    source_path: str | None = _text()
    source_sha256: str | None = _text()
    format: str | None = _text()
    reader: str | None = _text()
    experiment: str | None = _text()
    pulse_program: str | None = _text()
    increment: int | None = attrs.field(default=None, converter=_opt_int)
    array_variable: str | None = _text()
    array_value: float | None = _num()
    array_unit: str | None = _text()
    group_delay_points: float | None = _num()
    receiver_gain: float | None = _num()
    temperature_k: float | None = _num()
    reference_frequency_hz: float | None = _num()
    reference_frequency_hz_err: float | None = _num()
    reference: str | None = _text()
    dac_shielding_ppm: float | None = _num()
    dac_shielding_ppm_err: float | None = _num()
    acquired_points: int | None = attrs.field(default=None, converter=_opt_int)
    group_delay_removed_points: float | None = _num()
    phase_p0_deg: float | None = _num()
    phase_p1_deg: float | None = _num()
    time_noise_sigma: float | None = _num()
    snr_time: float | None = _num()
    snr_time_err: float | None = _num()
    flags: tuple[str, ...] = attrs.field(factory=tuple, converter=lambda v: tuple(v or ()))
    parameters: dict[str, str] = attrs.field(factory=dict, converter=_str_map)
    history: tuple[HistoryStep, ...] = attrs.field(factory=tuple, converter=_history)

    def __attrs_post_init__(self) -> None:
        if self.re.shape != self.im.shape:
            raise ValidationError(f"re and im differ in length ({self.re.size} vs {self.im.size})")
        if self.n_points is None:
            object.__setattr__(self, "n_points", int(self.re.size))
        elif self.n_points != self.re.size:
            raise ValidationError(f"n_points={self.n_points} but the data hold {self.re.size}")
        if self.x_step is None:
            step = 1.0 / self.spectral_width_hz if self.domain == "time" else 1.0
            object.__setattr__(self, "x_step", step)
        if self.dwell_s is None and self.domain == "time":
            object.__setattr__(self, "dwell_s", 1.0 / self.spectral_width_hz)
        self._set_id()

    @property
    def data(self) -> np.ndarray:
        """Complex128 view of re + 1j*im."""
        return self.re + 1j * self.im

    @property
    def x(self) -> np.ndarray:
        """The x axis in ``x_unit``."""
        assert self.x_step is not None
        return self.x_start + self.x_step * np.arange(self.re.size)


@attrs.frozen(eq=True)
class RelaxationCurve(Record):
    """Amplitude against delay. For echo kinds ``delay_s`` is the full echo time 2*tau."""

    __table__: ClassVar[str] = "relaxation"

    nucleus: str = attrs.field(converter=_nucleus)
    kind: str = attrs.field(
        validator=one_of(
            "T1_saturation_recovery", "T1_inversion_recovery", "T2_hahn_echo", "T2_cpmg"
        )
    )
    delay_s: np.ndarray = _array()
    amplitude: np.ndarray = _array()
    amplitude_err: np.ndarray = _opt_array()
    id: str | None = _text()
    cell: str | None = _text()
    campaign: str | None = _text()
    acquired_at: dt.datetime | None = attrs.field(default=None, converter=_utc)
    amplitude_method: str | None = _text()
    source_ids: tuple[str, ...] | None = attrs.field(default=None, converter=_str_tuple)
    model: str | None = _text()
    params: dict[str, float] | None = attrs.field(
        default=None, converter=_float_map, eq=attrs.cmp_using(eq=_float_map_eq)
    )
    stderr: dict[str, float] | None = attrs.field(
        default=None, converter=_float_map, eq=attrs.cmp_using(eq=_float_map_eq)
    )
    reduced_chi2: float | None = _num()
    history: tuple[HistoryStep, ...] = attrs.field(factory=tuple, converter=_history)

    def __attrs_post_init__(self) -> None:
        if self.amplitude_err is None:
            object.__setattr__(self, "amplitude_err", np.full(self.amplitude.shape, np.nan))
        n = {self.delay_s.size, self.amplitude.size, self.amplitude_err.size}
        if len(n) != 1:
            raise ValidationError("delay_s, amplitude and amplitude_err differ in length")
        if np.any(self.delay_s < 0):
            raise ValidationError("delay_s holds negative delays")
        self._set_id()


@attrs.frozen(eq=True)
class TransportCurve(Record):
    """One R(T) sweep. NaN resistance marks an overload or missing reading (see ``flags``)."""

    __table__: ClassVar[str] = "transport"

    temperature_k: np.ndarray = _array()
    resistance_ohm: np.ndarray = _array()
    sweep: str = attrs.field(default="cooling", validator=one_of("cooling", "warming"))
    time_s: np.ndarray | None = _opt_array()
    id: str | None = _text()
    cell: str | None = _text()
    campaign: str | None = _text()
    acquired_at: dt.datetime | None = attrs.field(default=None, converter=_utc)
    sweep_index: int | None = attrs.field(default=None, converter=_opt_int)
    excitation_a: float | None = _num()
    frequency_hz: float | None = _num()
    instrument: str | None = _text()
    channel: str | None = _text()
    source_path: str | None = _text()
    source_sha256: str | None = _text()
    format: str | None = _text()
    reader: str | None = _text()
    flags: tuple[str, ...] = attrs.field(factory=tuple, converter=lambda v: tuple(v or ()))
    parameters: dict[str, str] = attrs.field(factory=dict, converter=_str_map)
    history: tuple[HistoryStep, ...] = attrs.field(factory=tuple, converter=_history)

    def __attrs_post_init__(self) -> None:
        if self.temperature_k.size != self.resistance_ohm.size:
            raise ValidationError("temperature_k and resistance_ohm differ in length")
        if self.time_s is not None and self.time_s.size != self.temperature_k.size:
            raise ValidationError("time_s and temperature_k differ in length")
        self._set_id()


@attrs.frozen(eq=True)
class Cell(Record):
    """A diamond anvil cell: preparation and synthesis."""

    __table__: ClassVar[str] = "cell"

    cell: str = attrs.field(converter=str)
    campaign: str | None = _text()
    kind: str | None = attrs.field(default=None, validator=one_of("nmr", "transport"))
    culet_um: float | None = _num(validator=attrs.validators.optional(positive))
    gasket: str | None = _text()
    precursor: str | None = _text()
    hydrogen_source: str | None = _text()
    synthesis_pressure_gpa: float | None = _num(validator=attrs.validators.optional(positive))
    synthesized_at: dt.datetime | None = attrs.field(default=None, converter=_utc)
    laser_temperature_k: float | None = _num(validator=attrs.validators.optional(positive))
    notes: str | None = _text()


@attrs.frozen(eq=True)
class Campaign(Record):
    """A measurement campaign."""

    __table__: ClassVar[str] = "campaign"

    campaign: str = attrs.field(converter=str)
    field_t: float | None = _num(validator=attrs.validators.optional(positive))
    proton_frequency_hz: float | None = _num(validator=attrs.validators.optional(positive))
    description: str | None = _text()
    root: str | None = _text()
    config_version: int | None = attrs.field(default=None, converter=_opt_int)
    created_at: dt.datetime | None = attrs.field(default=None, converter=_utc)


# ----------------------------------------------------------------------------- result records
def _result_record(class_name: str, table: str, doc: str) -> type[Record]:
    """Build a frozen record class for a result table from its schema (all fields optional)."""
    schema = get_schema(table)
    ns: dict[str, Any] = {"__table__": table, "__doc__": doc}
    for fd in schema.fields:
        t = fd.type
        if pa.types.is_floating(t):
            ns[fd.name] = _num()
        elif pa.types.is_integer(t):
            ns[fd.name] = attrs.field(default=None, converter=_opt_int)
        elif pa.types.is_boolean(t):
            ns[fd.name] = attrs.field(
                default=None, converter=lambda v: None if v is None else bool(v)
            )
        elif pa.types.is_timestamp(t):
            ns[fd.name] = attrs.field(default=None, converter=_utc)
        elif pa.types.is_map(t):
            ns[fd.name] = attrs.field(
                default=None, converter=_float_map, eq=attrs.cmp_using(eq=_float_map_eq)
            )
        elif pa.types.is_list(t) and pa.types.is_string(t.value_type):
            ns[fd.name] = attrs.field(default=None, converter=_str_tuple)
        elif pa.types.is_list(t) and pa.types.is_floating(t.value_type):
            ns[fd.name] = _opt_array()
        else:
            ns[fd.name] = _text()

    def post_init(self: Record) -> None:
        self._set_id()

    ns["__attrs_post_init__"] = post_init
    cls = type(class_name, (Record,), ns)
    return attrs.frozen(eq=True)(cls)


Lineshape = _result_record("Lineshape", "lineshape", "Peak position, FWHM, integral and SNR.")
RelaxationFit = _result_record("RelaxationFit", "relaxation_fit", "Fitted T1/T2 with errors.")
Quantification = _result_record("Quantification", "quantification", "Spin-number ratio.")
TcResult = _result_record("TcResult", "tc", "Tc of one R(T) sweep by several criteria.")
Kinetics = _result_record("Kinetics", "kinetics", "Linear rate and exponential asymptote.")

_BY_TABLE: dict[str, type[Record]] = {
    c.__table__: c
    for c in (
        Spectrum,
        RelaxationCurve,
        TransportCurve,
        Cell,
        Campaign,
        Lineshape,
        RelaxationFit,
        Quantification,
        TcResult,
        Kinetics,
    )
}


def record_class(table: str) -> type[Record]:
    """The record class of a table name."""
    try:
        return _BY_TABLE[table]
    except KeyError:
        raise SchemaError(f"no record class for table {table!r}") from None


# ----------------------------------------------------------------------------- Arrow conversion
def _float_list_array(values: Sequence[np.ndarray | None], type_: pa.DataType) -> pa.Array:
    lengths = np.array([0 if v is None else v.size for v in values], dtype=np.int64)
    offsets = np.zeros(
        len(values) + 1, dtype=np.int64 if pa.types.is_large_list(type_) else np.int32
    )
    np.cumsum(lengths, out=offsets[1:])
    flat = (
        np.concatenate([v for v in values if v is not None])
        if any(v is not None and v.size for v in values)
        else np.empty(0, dtype=np.float64)
    )
    mask = pa.array([v is None for v in values]) if any(v is None for v in values) else None
    cls = pa.LargeListArray if pa.types.is_large_list(type_) else pa.ListArray
    return cls.from_arrays(pa.array(offsets), pa.array(flat, type=type_.value_type), mask=mask)


def _column(values: list[Any], type_: pa.DataType) -> pa.Array:
    if (pa.types.is_list(type_) or pa.types.is_large_list(type_)) and pa.types.is_floating(
        type_.value_type
    ):
        return _float_list_array(values, type_)
    if pa.types.is_map(type_):
        return pa.array([None if v is None else list(v.items()) for v in values], type=type_)
    if pa.types.is_list(type_) and pa.types.is_struct(type_.value_type):
        return pa.array(
            [None if v is None else [attrs.asdict(h) for h in v] for v in values], type=type_
        )
    if pa.types.is_list(type_):
        return pa.array([None if v is None else list(v) for v in values], type=type_)
    return pa.array(values, type=type_)


def to_table(records: Iterable[Record]) -> pa.Table:
    """Convert records of one class to a validated, schema-stamped ``pyarrow.Table``."""
    records = list(records)
    if not records:
        raise ValidationError("to_table() needs at least one record (use schema.empty for none)")
    cls = type(records[0])
    if any(type(r) is not cls for r in records):
        raise ValidationError("to_table() needs records of one class")
    schema = get_schema(cls.__table__)
    names = {a.name for a in _fields(cls)}
    columns = []
    for fd in schema.fields:
        if fd.name in names:
            columns.append(_column([getattr(r, fd.name) for r in records], fd.type))
        else:
            columns.append(pa.nulls(len(records), fd.type))
    table = pa.Table.from_arrays(columns, schema=schema.arrow)
    return conform(table, cls.__table__)


def _list_column_to_arrays(col: pa.ChunkedArray) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = []
    for chunk in col.chunks:
        offsets = chunk.offsets.to_numpy()
        values = chunk.values.to_numpy(zero_copy_only=False)
        valid = chunk.is_valid().to_numpy(zero_copy_only=False)
        out.extend(
            values[offsets[i] : offsets[i + 1]] if valid[i] else None for i in range(len(chunk))
        )
    return out


def from_table(table: pa.Table, cls: type[R] | None = None) -> list[R]:
    """Convert a hydrofw table back to records (array columns become float64 numpy views)."""
    found = identify(table)
    if cls is None:
        if found is None:
            raise SchemaError("table carries no hydrofw.schema metadata; pass the record class")
        cls = record_class(found[0])  # type: ignore[assignment]
    assert cls is not None
    table = conform(table, cls.__table__)
    fields = {a.name for a in _fields(cls)}
    columns: dict[str, list[Any]] = {}
    for name in table.column_names:
        if name not in fields:
            continue
        col = table.column(name)
        t = col.type
        if (pa.types.is_list(t) or pa.types.is_large_list(t)) and pa.types.is_floating(
            t.value_type
        ):
            columns[name] = _list_column_to_arrays(col)
        elif pa.types.is_map(t):
            columns[name] = [None if v is None else dict(v) for v in col.to_pylist()]
        else:
            columns[name] = col.to_pylist()
    n = table.num_rows
    return [cls(**{k: v[i] for k, v in columns.items()}) for i in range(n)]


def as_mapping(record: Record) -> Mapping[str, Any]:
    """Record as a plain dict of its fields."""
    return attrs.asdict(record, recurse=False)  # type: ignore[arg-type]
