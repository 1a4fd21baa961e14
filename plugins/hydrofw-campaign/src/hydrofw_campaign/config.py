"""The campaign description ``campaign.toml`` (format version 1): parsed, validated records.

:func:`load_campaign` reads ``CAMPAIGN_DIR/campaign.toml`` with :mod:`tomllib` into a frozen
:class:`CampaignConfig`. Unknown keys and impossible values raise
:class:`hydrofw.errors.CampaignError` naming the file, the line and the key. The format is
documented in ``docs/campaign.md``; every section but ``[campaign]`` and ``[[cells]]`` is
optional and has defaults.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import fnmatch
import io
import math
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import attrs

from hydrofw.errors import CampaignError, HydrofwError
from hydrofw.header_values import excerpt
from hydrofw.nuclei import normalize_nucleus, reference_frequency_hz
from hydrofw.nuclei import nucleus as nuclear_data
from hydrofw.records import Campaign, Cell
from hydrofw.source import relative_inside, resolve_inside

from .tomlkeys import KeyLines
from .tomltable import TomlTable, one_of, positive

__all__ = [
    "FORMAT_VERSION",
    "CampaignConfig",
    "CellConfig",
    "AcquisitionConfig",
    "CopperReference",
    "STEP_PROCESSORS",
    "PressureCheck",
    "ReferenceConfig",
    "ExperimentRule",
    "PipelineConfig",
    "QuantificationConfig",
    "KineticsConfig",
    "DEFAULT_RULES",
    "EXPERIMENT_KINDS",
    "load_campaign",
    "parse_campaign",
    "check_pipeline",
    "read_pressure_csv",
]

#: Version of the campaign.toml format this module reads (key ``format_version``).
FORMAT_VERSION = 1

#: What an experiment can be; relaxation kinds match the ``relaxation`` table's ``kind``.
EXPERIMENT_KINDS = (
    "fid",
    "T1_saturation_recovery",
    "T1_inversion_recovery",
    "T2_hahn_echo",
    "T2_cpmg",
    "solid_echo",
    "cu_reference",
)
REFERENCE_KINDS = ("xi", "external", "internal_cu")
COPPER_NUCLEI = ("63Cu", "65Cu")
ECHO_DELAYS = ("tau", "full")

#: Parameter tables of ``[pipeline.params]`` that are not processor names: the processor whose
#: parameter class they use (``solid_echo``: FID -> spectrum of the solid echoes;
#: ``cu_reference``: FID -> spectrum of the 63Cu/65Cu Lenz-lens FIDs).
STEP_PROCESSORS: dict[str, str] = {
    "solid_echo": "nmr.fid_to_spectrum",
    "cu_reference": "nmr.fid_to_spectrum",
}
LA_DETECTION = ("all_transitions", "central_transition_hard", "central_transition_selective")


# ----------------------------------------------------------------------------- records
@attrs.frozen
class PressureCheck:
    """One pressure reading of a cell (GPa) at ``measured_at`` (UTC)."""

    measured_at: dt.datetime
    pressure_gpa: float
    pressure_err_gpa: float | None = None
    method: str | None = None
    source: str | None = None  #: "campaign.toml" or the CSV file it came from


@attrs.frozen
class ReferenceConfig:
    """How shifts of one nucleus are referenced (ppm = Hz/MHz against ``frequency_hz``).

    ``kind``: ``"xi"`` (0 ppm at Xi * proton frequency, IUPAC), ``"external"`` (a reference
    compound measured at ``frequency_hz``) or ``"internal_cu"`` (the DAC's 63Cu Lenz-lens line
    at ``cu_dac_frequency_hz`` against bulk Cu at ``cu_ambient_frequency_hz``: the reference
    frequency is scaled by ``1 - shielding``).
    """

    nucleus: str
    kind: str = "xi"
    compound: str | None = None
    frequency_hz: float | None = None
    cu_dac_frequency_hz: float | None = None
    cu_ambient_frequency_hz: float | None = None
    cu_dac_frequency_err_hz: float = 0.0
    cu_ambient_frequency_err_hz: float = 0.0

    @property
    def measured_cu(self) -> bool:
        """``internal_cu`` without ``cu_dac_frequency_hz``: the shielding is measured per
        session from the cell's 63Cu/65Cu FIDs."""
        return self.kind == "internal_cu" and self.cu_dac_frequency_hz is None

    @property
    def shielding(self) -> float:
        """DAC shielding sigma_DAC = 1 - nu_Cu,DAC / nu_Cu,ambient (dimensionless; 0 unless
        ``internal_cu``)."""
        if self.cu_dac_frequency_hz is None or self.cu_ambient_frequency_hz is None:
            return 0.0
        return 1.0 - self.cu_dac_frequency_hz / self.cu_ambient_frequency_hz

    def reference_frequency_hz(self, proton_frequency_hz: float | None) -> float:
        """Frequency of 0 ppm in Hz (for ``xi`` and ``internal_cu`` from ``proton_frequency_hz``,
        the 1H frequency of TMS in the same magnet, unless ``frequency_hz`` is given)."""
        if self.frequency_hz is not None:
            base = self.frequency_hz
        elif proton_frequency_hz is None:
            raise CampaignError(
                f"reference of {self.nucleus}: needs frequency_hz or the campaign's "
                "proton_frequency_hz"
            )
        else:
            base = reference_frequency_hz(self.nucleus, proton_frequency_hz)
        return base * (1.0 - self.shielding)


def parse_timezone(text: str) -> dt.tzinfo:
    """``"+08:00"``/``"-05:30"``/``"Z"``/``"UTC"`` or an IANA name (``"Asia/Shanghai"``)."""
    if text in ("Z", "UTC", "utc"):
        return dt.UTC
    m = re.fullmatch(r"(?:UTC)?([+-])(\d{1,2}):?(\d{2})?", text)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59:
            raise ValueError(f"UTC offset {text!r} out of range")
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{text!r} is neither a UTC offset (+08:00) nor a known IANA time zone ({exc})"
        ) from None


@attrs.frozen
class AcquisitionConfig:
    """Console facts of a cell (``[cells.acquisition]``).

    ``timezone``: zone of the console clock (IANA name or UTC offset), applied to timestamps the
    readers flag ``acquired_at_local_time`` (a wall clock read as UTC); None: they are taken as
    UTC. ``echo_delay``: ``"tau"`` (echo delay lists hold tau, doubled to 2 tau) or ``"full"``
    (they hold 2 tau); None: by format (Varian ``tau`` arrays hold tau, Bruker vdlists and
    TecMag tables are used as written). ``nucleus``: for headers that name none.
    """

    timezone: str | None = None
    echo_delay: str | None = None
    nucleus: str | None = None

    @property
    def tzinfo(self) -> dt.tzinfo | None:
        return None if self.timezone is None else parse_timezone(self.timezone)


@attrs.frozen
class CopperReference:
    """The ambient metallic-Cu line (``[copper_reference]``), measured once outside any DAC at
    the campaign's field: ``ambient_frequency_hz`` (with error), or ``knight_shift_ppm`` (with
    error) of metallic Cu against the Xi reference ([Cu(CH3CN)4]ClO4), giving
    ``Xi/100 * proton_frequency_hz * (1 + K)``."""

    nucleus: str = "63Cu"
    ambient_frequency_hz: float | None = None
    ambient_frequency_err_hz: float = 0.0
    knight_shift_ppm: float | None = None
    knight_shift_err_ppm: float = 0.0

    def ambient_hz(self, nucleus: str, proton_frequency_hz: float | None) -> tuple[float, float]:
        """(frequency, error) in Hz of metallic Cu at ambient for isotope ``nucleus`` (the other
        isotope scales by the ratio of the Xi values: the Knight shift is the same)."""
        if self.ambient_frequency_hz is not None:
            hz, err = self.ambient_frequency_hz, self.ambient_frequency_err_hz
        else:
            if proton_frequency_hz is None:
                raise CampaignError(
                    "[copper_reference] knight_shift_ppm needs the campaign's proton_frequency_hz"
                )
            base = reference_frequency_hz(self.nucleus, proton_frequency_hz)
            assert self.knight_shift_ppm is not None
            hz = base * (1.0 + self.knight_shift_ppm * 1e-6)
            err = base * self.knight_shift_err_ppm * 1e-6
        if nucleus != self.nucleus:
            ratio = nuclear_data(nucleus).xi_percent / nuclear_data(self.nucleus).xi_percent
            hz, err = hz * ratio, err * ratio
        return hz, err


@attrs.frozen
class CellConfig:
    """A cell of the campaign: the ``cell`` record plus where its data live and its checks."""

    cell: Cell
    raw_folder: str
    console: str | None = None
    laser_heating_s: float | None = None
    pressure_checks: tuple[PressureCheck, ...] = ()
    references: Mapping[str, ReferenceConfig] = attrs.field(factory=dict)
    acquisition: AcquisitionConfig = attrs.field(factory=AcquisitionConfig)
    #: ``[cells.pipeline.params."<step>"]``: per-cell parameters, over the campaign's
    params: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    locations: Mapping[str, str] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def id(self) -> str:
        return self.cell.cell


@attrs.frozen
class ExperimentRule:
    """Which experiments are of ``kind``: every given criterion must match (glob patterns,
    case-insensitive; a list matches when any pattern does). ``folders`` match the path
    relative to ``raw/`` (``*`` crosses ``/``)."""

    kind: str
    nucleus: str | None = None
    pulse_programs: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()

    def matches(
        self,
        *,
        pulse_program: str | None = None,
        path: str | None = None,
        title: str | None = None,
        nucleus: str | None = None,
    ) -> bool:
        """True when the experiment satisfies every criterion of the rule."""
        if self.nucleus is not None and (
            nucleus is None or normalize_nucleus(nucleus) != self.nucleus
        ):
            return False
        checks = ((self.pulse_programs, pulse_program), (self.folders, path), (self.titles, title))
        for patterns, value in checks:
            if patterns and (
                value is None
                or not any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)
            ):
                return False
        return True


#: Rules used when campaign.toml gives none (first match wins). Bruker, Varian and TecMag
#: sequence names as commonly spelled.
DEFAULT_RULES: tuple[ExperimentRule, ...] = (
    # the Lenz-lens line: any 63Cu/65Cu experiment (the lens is the only copper in a cell)
    ExperimentRule("cu_reference", nucleus="63Cu"),
    ExperimentRule("cu_reference", nucleus="65Cu"),
    ExperimentRule(
        "T1_saturation_recovery", pulse_programs=("satrec*", "*satrec*", "t1sr*", "relax")
    ),
    ExperimentRule("T1_inversion_recovery", pulse_programs=("t1ir*", "*invrec*", "*inversion*")),
    ExperimentRule("T2_cpmg", pulse_programs=("cpmg*", "*cpmg*")),
    ExperimentRule(
        "T2_hahn_echo", pulse_programs=("hahn*", "*hahnecho*", "*hahn_echo*", "*t2echo*")
    ),
    ExperimentRule("solid_echo", pulse_programs=("solidecho*", "*solid_echo*", "quadecho*")),
    ExperimentRule(
        "fid", pulse_programs=("zg*", "s2pul", "onepul*", "one_pulse*", "fid*", "*single_pulse*")
    ),
)


@attrs.frozen
class PipelineConfig:
    """Processing steps (processor names, in order; empty: the campaign plugin's defaults) and
    their parameters (``{processor: {parameter: value}}``, checked by :func:`check_pipeline`)."""

    steps: tuple[str, ...] = ()
    params: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    #: ``{processor: "FILE:LINE: pipeline.params.NAME"}`` for error messages
    locations: Mapping[str, str] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen
class QuantificationConfig:
    """Spin counting (H/La) from the time-domain SNR of two channels.

    ``method``: ``"reciprocity"`` (receptivity scaling gamma^p I(I+1) abundance with
    sqrt(NS) and sqrt(bandwidth) normalisation) or ``"calibrated"`` (the same, scaled so that
    the calibration measurement gives ``calibration_h_over_la``). ``la_detection`` states which
    139La transitions the signal holds (changes H/La by 5.25x or 21x: physics.md section 3).
    ``calibration_before_synthesis``: the calibration spectra are each cell's spectra taken
    before its synthesis (the LaH3 precursor), ``calibration_h_over_la`` their true ratio.
    """

    method: str = "reciprocity"
    gamma_exponent: float = 3.0
    la_detection: str = "all_transitions"
    calibration_h_over_la: float | None = None
    calibration_before_synthesis: bool = True


@attrs.frozen
class KineticsConfig:
    """Which time series ``campaign.kinetics`` fits and over which window (days)."""

    quantities: tuple[str, ...] = (
        "h_over_la",  # what [quantification] method counts (the metal hydride by default)
        "h_over_la_first_principles",
        "h_over_la_calibrated",
        *(
            f"tc_{c}_{kind}"
            for c in ("onset", "90", "50", "10", "zero")  # every transport.tc criterion
            for kind in ("k", "normalised")
        ),
    )
    window_start_days: float | None = None
    window_end_days: float | None = None
    max_relative_error: float = 0.30


@attrs.frozen
class CampaignConfig:
    """A parsed ``campaign.toml``."""

    root: Path
    version: int
    campaign: Campaign
    cells: tuple[CellConfig, ...]
    references: Mapping[str, ReferenceConfig]
    rules: tuple[ExperimentRule, ...]
    pipeline: PipelineConfig
    quantification: QuantificationConfig
    kinetics: KineticsConfig
    copper: CopperReference | None = None
    #: raw_folder parts -> (campaign.toml order, cell): a path's cell in a few lookups
    _folders: Mapping[tuple[str, ...], tuple[int, CellConfig]] = attrs.field(
        init=False, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        folders: dict[tuple[str, ...], tuple[int, CellConfig]] = {}
        for i, c in enumerate(self.cells):
            folders.setdefault(PurePosixPath(c.raw_folder).parts, (i, c))
        object.__setattr__(self, "_folders", folders)

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    def cell(self, cell_id: str) -> CellConfig:
        for c in self.cells:
            if c.id == cell_id:
                return c
        raise CampaignError(f"{self.root / 'campaign.toml'}: no cell {cell_id!r}")

    def cell_for_path(self, path: str | Path) -> CellConfig | None:
        """The cell whose ``raw_folder`` holds ``path`` (absolute, or relative to ``raw/``)."""
        p = Path(path)
        if p.is_absolute():
            if not p.is_relative_to(self.raw_dir):
                return None
            p = p.relative_to(self.raw_dir)
        parts = PurePosixPath(p.as_posix()).parts
        found = [f for k in range(len(parts) + 1) if (f := self._folders.get(parts[:k]))]
        return min(found, key=lambda f: f[0])[1] if found else None  # the first in the toml

    def reference(self, nucleus: str, cell_id: str | None = None) -> ReferenceConfig:
        """Reference of ``nucleus`` for a cell (its own override, else the campaign's, else Xi)."""
        n = normalize_nucleus(nucleus)
        if cell_id is not None:
            own = self.cell(cell_id).references.get(n)
            if own is not None:
                return own
        return self.references.get(n, ReferenceConfig(nucleus=n))

    def classify(
        self,
        *,
        pulse_program: str | None = None,
        path: str | None = None,
        title: str | None = None,
        nucleus: str | None = None,
    ) -> str | None:
        """Kind of an experiment by the first matching rule (None when no rule matches)."""
        for rule in self.rules:
            if rule.matches(pulse_program=pulse_program, path=path, title=title, nucleus=nucleus):
                return rule.kind
        return None


# ----------------------------------------------------------------------------- parsing
def load_campaign(campaign_dir: str | Path) -> CampaignConfig:
    """Parse ``campaign_dir/campaign.toml`` (or a path to the file itself)."""
    path = Path(campaign_dir)
    if path.is_dir():
        path = path / "campaign.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CampaignError(f"{path}: no campaign description (campaign.toml) found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignError(f"{path}: cannot read ({exc})") from None
    return parse_campaign(text, path)


def parse_campaign(text: str, path: str | Path = "campaign.toml") -> CampaignConfig:
    """Parse the text of a campaign.toml; ``path`` names it in errors and sets the root."""
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{path}: invalid TOML: {exc}") from None
    top = TomlTable(data, (), path, KeyLines(text))
    version = top.get("format_version", int, FORMAT_VERSION)
    if version != FORMAT_VERSION:
        top.fail(
            "format_version",
            f"this hydrofw-campaign reads format_version {FORMAT_VERSION}, not {version}",
        )
    section = top.table("campaign")
    if section is None:
        top.fail(None, "the [campaign] table is missing")
    campaign = _campaign(section, path, version)
    cell_tables = top.tables("cells")
    cells = tuple(
        _with_csv_pressures(_cell(t, campaign.campaign), t, path.parent) for t in cell_tables
    )
    if not cells:
        top.fail(None, "no [[cells]] defined")
    _unique(top, "cells", [c.id for c in cells])
    refs_table = top.table("references")
    references = _references(refs_table) if refs_table is not None else {}
    copper_table = top.table("copper_reference")
    copper = _copper(copper_table) if copper_table is not None else None
    _check_measured_cu(top, cell_tables, cells, references, copper)
    config = CampaignConfig(
        root=path.parent,
        version=version,
        campaign=campaign,
        cells=cells,
        references=references,
        rules=_rules(top.table("experiments")),
        pipeline=_pipeline(top.table("pipeline")),
        quantification=_quantification(top.table("quantification")),
        kinetics=_kinetics(top.table("kinetics")),
        copper=copper,
    )
    top.finish()
    return config


def _copper(t: TomlTable) -> CopperReference:
    nucleus = t.get("nucleus", str, "63Cu", one_of(*COPPER_NUCLEI))
    freq = t.get("ambient_frequency_hz", float, None, positive)
    knight = t.get("knight_shift_ppm", float, None)
    ref = CopperReference(
        nucleus=nucleus,
        ambient_frequency_hz=freq,
        ambient_frequency_err_hz=t.get("ambient_frequency_err_hz", float, 0.0, _non_negative),
        knight_shift_ppm=knight,
        knight_shift_err_ppm=t.get("knight_shift_err_ppm", float, 0.0, _non_negative),
    )
    if (freq is None) == (knight is None):
        t.fail(None, "give ambient_frequency_hz or knight_shift_ppm (exactly one)")
    if knight is not None and not abs(knight) < 1e4:
        t.fail("knight_shift_ppm", f"{knight} ppm is not a metallic-Cu Knight shift (~2380)")
    t.finish()
    return ref


def _check_measured_cu(
    top: TomlTable,
    tables: list[TomlTable],
    cells: tuple[CellConfig, ...],
    campaign_refs: Mapping[str, ReferenceConfig],
    copper: CopperReference | None,
) -> None:
    """An ``internal_cu`` reference without ``cu_dac_frequency_hz`` is measured from the data
    and needs the ambient line: [copper_reference] or its own cu_ambient_frequency_hz."""
    if copper is not None:
        return
    for t, cell in zip(tables, cells, strict=True):
        refs = {**campaign_refs, **cell.references}
        for nucleus, ref in refs.items():
            if ref.measured_cu and ref.cu_ambient_frequency_hz is None:
                where = t if nucleus in cell.references else top
                where.fail(
                    "references",
                    f"{nucleus}: internal_cu without cu_dac_frequency_hz is measured from the "
                    "cell's 63Cu FIDs and needs the ambient Cu line: add [copper_reference] "
                    "(ambient_frequency_hz or knight_shift_ppm) or cu_ambient_frequency_hz",
                )


def _unique(table: TomlTable, key: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, cid in enumerate(ids):
        if cid in seen:
            table.fail(key, f"cell id {cid!r} is used twice (entry {i})")
        seen.add(cid)


def _campaign(t: TomlTable, path: Path, version: int) -> Campaign:
    name = t.get("name", str, check=lambda v: None if v.strip() else "must not be empty")
    field_t = t.get("field_t", float, None, positive)
    proton_hz = t.get("proton_frequency_hz", float, None, positive)
    if proton_hz is None and field_t is not None:
        proton_hz = nuclear_data("1H").larmor_frequency_hz(field_t)
    description = t.get("description", str, None)
    t.finish()
    return Campaign(
        campaign=name,
        field_t=field_t,
        proton_frequency_hz=proton_hz,
        description=description,
        root=str(path.parent),
        config_version=version,
    )


def _cell(t: TomlTable, campaign: str) -> CellConfig:
    cid = t.get(
        "id",
        str,
        check=lambda v: None if v and "/" not in v else "must be a non-empty name without '/'",
    )
    record = Cell(
        cell=cid,
        campaign=campaign,
        kind=t.get("kind", str, check=one_of("nmr", "transport")),
        culet_um=t.get("culet_um", float, None, positive),
        gasket=t.get("gasket", str, None),
        precursor=t.get("precursor", str, None),
        hydrogen_source=t.get("hydrogen_source", str, None),
        synthesis_pressure_gpa=t.get("synthesis_pressure_gpa", float, None, positive),
        synthesized_at=t.get("synthesized_at", dt.datetime),
        laser_temperature_k=t.get("laser_temperature_k", float, None, positive),
        notes=t.get("notes", str, None),
    )
    raw_folder = t.get(
        "raw_folder",
        str,
        cid,
        lambda v: None if relative_inside(v) else "must be a folder inside raw/",
    )
    checks = tuple(_pressure(p) for p in t.tables("pressure"))
    refs = t.table("references")
    acq = t.table("acquisition")
    params, locations = _step_params(t.table("pipeline"), ())
    t.get("pressure_csv", str, None)  # read in _with_csv_pressures (needs the campaign folder)
    cell = CellConfig(
        cell=record,
        raw_folder=raw_folder,
        console=t.get("console", str, None),
        laser_heating_s=t.get("laser_heating_s", float, None, positive),
        pressure_checks=checks,
        references=_references(refs) if refs is not None else {},
        acquisition=_acquisition(acq) if acq is not None else AcquisitionConfig(),
        params=params,
        locations=locations,
    )
    t.finish()
    return cell


def _acquisition(t: TomlTable) -> AcquisitionConfig:
    def zone(value: str) -> str | None:
        try:
            parse_timezone(value)
        except ValueError as exc:
            return str(exc)
        return None

    nucleus = t.get("nucleus", str, None)
    if nucleus is not None:
        try:
            nucleus = normalize_nucleus(nucleus)
        except HydrofwError as exc:
            t.fail("nucleus", str(exc))
    out = AcquisitionConfig(
        timezone=t.get("timezone", str, None, zone),
        echo_delay=t.get("echo_delay", str, None, one_of(*ECHO_DELAYS)),
        nucleus=nucleus,
    )
    t.finish()
    return out


def _pressure(t: TomlTable) -> PressureCheck:
    check = PressureCheck(
        measured_at=t.get("measured_at", dt.datetime),
        pressure_gpa=t.get("pressure_gpa", float, check=positive),
        pressure_err_gpa=t.get(
            "pressure_err_gpa", float, None, lambda v: None if v >= 0 else "must not be negative"
        ),
        method=t.get("method", str, None),
        source="campaign.toml",
    )
    t.finish()
    return check


def _with_csv_pressures(cell: CellConfig, t: TomlTable, root: Path) -> CellConfig:
    name = t.data.get("pressure_csv")
    if name is None:
        return cell
    csv_path = resolve_inside(root, name) if isinstance(name, str) else None
    if csv_path is None:
        t.fail("pressure_csv", "must name a file inside the campaign folder")
    try:
        text = csv_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        t.fail("pressure_csv", f"cannot read {csv_path} ({exc})")
    rows = read_pressure_csv(text, csv_path)
    checks = tuple(sorted(cell.pressure_checks + rows, key=lambda c: c.measured_at))
    return attrs.evolve(cell, pressure_checks=checks)


def read_pressure_csv(text: str, path: Path) -> tuple[PressureCheck, ...]:
    """Pressure checks from CSV text with a header ``measured_at,pressure_gpa`` (and optionally
    ``pressure_err_gpa``, ``method``); ``measured_at`` in ISO 8601 with a time zone."""
    reader = csv.DictReader(io.StringIO(text))
    fields = reader.fieldnames or []
    for need in ("measured_at", "pressure_gpa"):
        if need not in fields:
            found = excerpt(", ".join(fields))
            raise CampaignError(f"{path}:1: column {need!r} missing (header: {found})")
    extra = set(fields) - {"measured_at", "pressure_gpa", "pressure_err_gpa", "method"}
    if extra:
        raise CampaignError(f"{path}:1: unknown column {sorted(extra)[0]!r}")
    out = []
    for row in reader:
        line = reader.line_num
        try:
            at = dt.datetime.fromisoformat(row["measured_at"].strip())
            if at.tzinfo is None:
                raise ValueError(f"{row['measured_at']!r} has no time zone")
            p = float(row["pressure_gpa"])
            err_text = (row.get("pressure_err_gpa") or "").strip()
            err = float(err_text) if err_text else None
        except (ValueError, AttributeError) as exc:
            raise CampaignError(f"{path}:{line}: {exc}") from None
        if not (math.isfinite(p) and p > 0) or (err is not None and not err >= 0):
            raise CampaignError(f"{path}:{line}: impossible pressure {p} +- {err} GPa")
        method = (row.get("method") or "").strip() or None
        out.append(PressureCheck(at.astimezone(dt.UTC), p, err, method, str(path.name)))
    return tuple(out)


def _references(t: TomlTable) -> dict[str, ReferenceConfig]:
    out: dict[str, ReferenceConfig] = {}
    for key in t.keys():
        try:
            nucleus = normalize_nucleus(key)
        except HydrofwError as exc:
            t.fail(key, str(exc))
        sub = t.table(key)
        assert sub is not None
        kind = sub.get("kind", str, "xi", one_of(*REFERENCE_KINDS))
        ref = ReferenceConfig(
            nucleus=nucleus,
            kind=kind,
            compound=sub.get("compound", str, None),
            frequency_hz=sub.get("frequency_hz", float, None, positive),
            cu_dac_frequency_hz=sub.get("cu_dac_frequency_hz", float, None, positive),
            cu_ambient_frequency_hz=sub.get("cu_ambient_frequency_hz", float, None, positive),
            cu_dac_frequency_err_hz=sub.get("cu_dac_frequency_err_hz", float, 0.0, _non_negative),
            cu_ambient_frequency_err_hz=sub.get(
                "cu_ambient_frequency_err_hz", float, 0.0, _non_negative
            ),
        )
        if kind == "external" and ref.frequency_hz is None:
            sub.fail(None, "an external reference needs frequency_hz (the 0 ppm frequency)")
        if kind == "internal_cu" and (
            ref.cu_dac_frequency_hz is not None and ref.cu_ambient_frequency_hz is None
        ):
            sub.fail(
                None,
                "cu_dac_frequency_hz needs cu_ambient_frequency_hz (the ambient Cu line)",
            )
        for key in ("cu_dac_frequency_hz", "cu_ambient_frequency_hz"):
            if kind != "internal_cu" and getattr(ref, key) is not None:
                sub.fail(key, f"only used by kind = 'internal_cu', not {kind!r}")
        if abs(ref.shielding) > 0.01:
            sub.fail(
                "cu_dac_frequency_hz",
                f"implies a DAC shielding of {ref.shielding * 1e6:.0f} ppm (> 1 %)",
            )
        sub.finish()
        out[nucleus] = ref
    return out


def _non_negative(value: float) -> str | None:
    return None if math.isfinite(value) and value >= 0 else "must not be negative"


def _rules(t: TomlTable | None) -> tuple[ExperimentRule, ...]:
    if t is None:
        return DEFAULT_RULES
    use_defaults = t.get("use_defaults", bool, True)
    rules = []
    for r in t.tables("rules"):
        nucleus = r.get("nucleus", str, None)
        if nucleus is not None:
            try:
                nucleus = normalize_nucleus(nucleus)
            except HydrofwError as exc:
                r.fail("nucleus", str(exc))
        rule = ExperimentRule(
            kind=r.get("kind", str, check=one_of(*EXPERIMENT_KINDS)),
            nucleus=nucleus,
            pulse_programs=r.strings("pulse_programs"),
            folders=r.strings("folders"),
            titles=r.strings("titles"),
        )
        if not (rule.nucleus or rule.pulse_programs or rule.folders or rule.titles):
            r.fail(None, "a rule needs at least one of nucleus, pulse_programs, folders, titles")
        r.finish()
        rules.append(rule)
    t.finish()
    return tuple(rules) + (DEFAULT_RULES if use_defaults else ())


def _pipeline(t: TomlTable | None) -> PipelineConfig:
    if t is None:
        return PipelineConfig()
    steps = t.strings("steps")
    params, locations = _step_params(t, steps)
    return PipelineConfig(steps=steps, params=params, locations=locations)


def _step_params(
    t: TomlTable | None, steps: tuple[str, ...]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """``params."<step>"`` tables of a ``[pipeline]`` (campaign's or a cell's) table; names and
    values are checked against the processors by :func:`check_pipeline`."""
    params: dict[str, dict[str, Any]] = {}
    locations: dict[str, str] = {}
    if t is None:
        return params, locations
    table = t.table("params")
    if table is not None:
        for name in table.keys():
            sub = table.table(name)
            if sub is None or not isinstance(table.data[name], dict):
                table.fail(name, "expected a table of parameters")
            assert sub is not None
            if steps and name not in steps and name not in STEP_PROCESSORS:
                table.fail(name, f"parameters for {name!r}, which is not in pipeline.steps")
            params[name] = dict(sub.data)
            locations[name] = sub.where()
    t.finish()
    return params, locations


def _quantification(t: TomlTable | None) -> QuantificationConfig:
    if t is None:
        return QuantificationConfig()
    method = t.get("method", str, "reciprocity", one_of("reciprocity", "calibrated"))
    exponent = t.get(
        "gamma_exponent",
        float,
        3.0,
        lambda v: None if 1.5 <= v <= 3.5 else "must lie between 1.5 and 3.5",
    )
    detection = t.get("la_detection", str, "all_transitions", one_of(*LA_DETECTION))
    cal = t.table("calibration")
    ratio, before = None, True
    if cal is not None:
        ratio = cal.get("h_over_la", float, check=positive)
        before = cal.get("before_synthesis", bool, True)
        cal.finish()
    if method == "calibrated" and ratio is None:
        t.fail("method", "method 'calibrated' needs [quantification.calibration] h_over_la")
    t.finish()
    return QuantificationConfig(method, exponent, detection, ratio, before)


def _kinetics(t: TomlTable | None) -> KineticsConfig:
    if t is None:
        return KineticsConfig()
    config = KineticsConfig(
        quantities=t.strings("quantities", KineticsConfig().quantities),
        window_start_days=t.get("window_start_days", float, None),
        window_end_days=t.get("window_end_days", float, None),
        max_relative_error=t.get("max_relative_error", float, 0.30, positive),
    )
    lo, hi = config.window_start_days, config.window_end_days
    if lo is not None and hi is not None and not hi > lo:
        t.fail("window_end_days", f"must exceed window_start_days ({lo})")
    t.finish()
    return config


def check_pipeline(config: CampaignConfig) -> None:
    """Check ``[pipeline]`` against the installed processors: every step and every parameter
    table names a registered processor, and its parameters build that processor's params class.
    Run at ``hydrofw run`` time (processors come from plugins that may not be installed when the
    file is merely parsed)."""
    from hydrofw.registry import get_registry

    registry = get_registry()
    default_where = f"{config.root / 'campaign.toml'}: pipeline"
    tables: list[tuple[Mapping[str, Mapping[str, Any]], Mapping[str, str]]] = [
        (dict.fromkeys(config.pipeline.steps, {}) | dict(config.pipeline.params),
         config.pipeline.locations)
    ]
    tables += [(c.params, c.locations) for c in config.cells]
    for params_by_step, locations in tables:
        for name, params in params_by_step.items():
            where = locations.get(name, default_where)
            try:
                proc = registry.processor(STEP_PROCESSORS.get(name, name))
            except HydrofwError as exc:
                raise CampaignError(f"{where}: {exc}") from None
            known = {a.name for a in attrs.fields(proc.params)}
            unknown = sorted(set(params) - known)
            if unknown:
                close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise CampaignError(
                    f"{where}: unknown parameter {unknown[0]!r} of {name!r} "
                    f"({hint}known: {', '.join(sorted(known)) or 'none'})"
                )
