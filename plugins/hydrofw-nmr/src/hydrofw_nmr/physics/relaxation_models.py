"""Relaxation models written as separable least-squares problems.

Every model is ``y(t) = sum_j c_j * phi_j(t; theta)``: the amplitudes ``c`` enter linearly and
are solved exactly (variable projection); only the times ``theta`` (and a stretching exponent)
are iterated. A model also maps its internal parameters ``(theta, c)`` to the *natural*
parameters users read (``m0``, ``t1_s``, ``inversion_factor`` ...) with the Jacobian of that map,
so covariances come out in natural units.

Conventions: ``t`` is the recovery delay for T1 kinds and the full echo time 2*tau for echo
kinds (``delay_s`` of the ``relaxation`` table). Times are in seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np

from hydrofw.errors import ParameterError

__all__ = ["RelaxationModel", "MODELS", "get_model", "default_model_for_kind", "model_function"]

Array = np.ndarray
BasisFn = Callable[[Array, Array], tuple[Array, Array]]
NaturalFn = Callable[[Array, Array], tuple[Array, Array]]


@attrs.frozen
class RelaxationModel:
    """One separable relaxation model.

    ``basis(t, theta)`` takes delays ``t`` (B, n) and nonlinear parameters ``theta`` (B, k) and
    returns the basis ``phi`` (B, n, m) and its derivatives ``dphi`` (B, n, m, k) with respect to
    ``theta``. ``natural(theta, c)`` returns the natural parameters (B, q) and their Jacobian
    (B, q, k + m) with respect to ``(theta, c)`` (in that order).
    """

    name: str
    quantity: str  #: "t1" or "t2": which relaxation time the model measures
    nonlinear: tuple[str, ...]  #: names of theta, e.g. ("t1_s",)
    linear: tuple[str, ...]  #: names of c, e.g. ("m0",)
    natural_names: tuple[str, ...]
    basis: BasisFn = attrs.field(repr=False)
    natural: NaturalFn = attrs.field(repr=False)
    stretched: bool = False
    components: int = 1
    description: str = ""

    @property
    def n_params(self) -> int:
        return len(self.nonlinear) + len(self.linear)

    def with_offset(self) -> RelaxationModel:
        """The same model plus a constant baseline ``offset`` (one more linear parameter)."""
        base_basis, base_natural = self.basis, self.natural
        k = len(self.nonlinear)

        def basis(t: Array, theta: Array) -> tuple[Array, Array]:
            phi, dphi = base_basis(t, theta)
            ones = np.ones(phi.shape[:2] + (1,))
            zeros = np.zeros(dphi.shape[:2] + (1, dphi.shape[3]))
            return np.concatenate([phi, ones], axis=2), np.concatenate([dphi, zeros], axis=2)

        def natural(theta: Array, c: Array) -> tuple[Array, Array]:
            values, jac = base_natural(theta, c[:, :-1])
            b = values.shape[0]
            q, p = jac.shape[1], jac.shape[2]
            full = np.zeros((b, q + 1, p + 1))
            full[:, :q, :p] = jac
            full[:, q, k + len(self.linear)] = 1.0
            return np.concatenate([values, c[:, -1:]], axis=1), full

        return attrs.evolve(
            self,
            name=f"{self.name}+offset",
            linear=(*self.linear, "offset"),
            natural_names=(*self.natural_names, "offset"),
            basis=basis,
            natural=natural,
        )


# --------------------------------------------------------------------------- basis primitives
def _decay(t: Array, time_s: Array) -> tuple[Array, Array]:
    """exp(-t/T) and its derivative with respect to T; t (B, n), T (B,)."""
    tt = time_s[:, None]
    e = np.exp(-t / tt)
    return e, e * t / tt**2


def _stretched_decay(t: Array, time_s: Array, beta: Array) -> tuple[Array, Array, Array]:
    """exp(-(t/T)^beta) and its derivatives with respect to T and beta."""
    tt, bb = time_s[:, None], beta[:, None]
    ratio = t / tt
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(ratio > 0, np.log(np.where(ratio > 0, ratio, 1.0)), 0.0)
    z = np.where(ratio > 0, np.exp(bb * log_ratio), 0.0)
    e = np.exp(-z)
    return e, e * bb * z / tt, -e * z * log_ratio


def _identity_natural(order: tuple[int, ...]) -> NaturalFn:
    """Natural parameters that are a reordering of (theta, c)."""

    def natural(theta: Array, c: Array) -> tuple[Array, Array]:
        internal = np.concatenate([theta, c], axis=1)
        values = internal[:, list(order)]
        jac = np.zeros((internal.shape[0], len(order), internal.shape[1]))
        jac[:, np.arange(len(order)), list(order)] = 1.0
        return values, jac

    return natural


def _single(recovery: bool) -> BasisFn:
    def basis(t: Array, theta: Array) -> tuple[Array, Array]:
        e, de = _decay(t, theta[:, 0])
        sign = -1.0 if recovery else 1.0
        phi = (1.0 - e if recovery else e)[:, :, None]
        return phi, (sign * de)[:, :, None, None]

    return basis


def _stretched(recovery: bool) -> BasisFn:
    def basis(t: Array, theta: Array) -> tuple[Array, Array]:
        e, de_dt, de_db = _stretched_decay(t, theta[:, 0], theta[:, 1])
        sign = -1.0 if recovery else 1.0
        phi = (1.0 - e if recovery else e)[:, :, None]
        dphi = sign * np.stack([de_dt, de_db], axis=-1)[:, :, None, :]
        return phi, dphi

    return basis


def _biexponential(recovery: bool) -> BasisFn:
    def basis(t: Array, theta: Array) -> tuple[Array, Array]:
        ea, dea = _decay(t, theta[:, 0])
        eb, deb = _decay(t, theta[:, 1])
        sign = -1.0 if recovery else 1.0
        phi = np.stack([1.0 - ea, 1.0 - eb] if recovery else [ea, eb], axis=-1)
        dphi = np.zeros(phi.shape + (2,))
        dphi[:, :, 0, 0] = sign * dea
        dphi[:, :, 1, 1] = sign * deb
        return phi, dphi

    return basis


def _inversion_basis(t: Array, theta: Array) -> tuple[Array, Array]:
    """y = A + B exp(-t/T1), i.e. M0 (1 - 2a exp(-t/T1)) with M0 = A, a = -B / (2A)."""
    e, de = _decay(t, theta[:, 0])
    phi = np.stack([np.ones_like(e), e], axis=-1)
    dphi = np.zeros(phi.shape + (1,))
    dphi[:, :, 1, 0] = de
    return phi, dphi


def _inversion_natural(theta: Array, c: Array) -> tuple[Array, Array]:
    a_amp, b_amp = c[:, 0], c[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = -b_amp / (2.0 * a_amp)
        jac = np.zeros((theta.shape[0], 3, 3))
        jac[:, 0, 1] = 1.0  # m0 = A
        jac[:, 1, 0] = 1.0  # t1_s
        jac[:, 2, 1] = b_amp / (2.0 * a_amp**2)  # d a / d A
        jac[:, 2, 2] = -1.0 / (2.0 * a_amp)  # d a / d B
    return np.stack([a_amp, theta[:, 0], factor], axis=1), jac


def _biexponential_natural(theta: Array, c: Array) -> tuple[Array, Array]:
    """(m0, fraction_fast, t_fast_s, t_slow_s) from (T_a, T_b, A, B), fast = shorter time."""
    swap = theta[:, 0] > theta[:, 1]
    t_fast = np.where(swap, theta[:, 1], theta[:, 0])
    t_slow = np.where(swap, theta[:, 0], theta[:, 1])
    a_fast = np.where(swap, c[:, 1], c[:, 0])
    a_slow = np.where(swap, c[:, 0], c[:, 1])
    total = a_fast + a_slow
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = a_fast / total
        d_frac_fast = a_slow / total**2
        d_frac_slow = -a_fast / total**2
    b = theta.shape[0]
    # columns in "fast/slow" order: t_fast, t_slow, a_fast, a_slow
    jac_fs = np.zeros((b, 4, 4))
    jac_fs[:, 0, 2] = jac_fs[:, 0, 3] = 1.0
    jac_fs[:, 1, 2] = d_frac_fast
    jac_fs[:, 1, 3] = d_frac_slow
    jac_fs[:, 2, 0] = 1.0
    jac_fs[:, 3, 1] = 1.0
    # permutation from internal (T_a, T_b, A, B) to (t_fast, t_slow, a_fast, a_slow)
    perm = np.zeros((b, 4, 4))
    straight = np.array([0, 1, 2, 3])
    swapped = np.array([1, 0, 3, 2])
    idx = np.where(swap[:, None], swapped, straight)
    perm[np.arange(b)[:, None], np.arange(4)[None, :], idx] = 1.0
    values = np.stack([total, fraction, t_fast, t_slow], axis=1)
    return values, jac_fs @ perm


def _make_models() -> dict[str, RelaxationModel]:
    models: list[RelaxationModel] = []
    for recovery, prefix, quantity, time_name in (
        (True, "saturation_recovery", "t1", "t1_s"),
        (False, "hahn_echo", "t2", "t2_s"),
    ):
        kind_text = "M0 (1 - exp(-t/T1))" if recovery else "M0 exp(-t/T2)"
        models.append(
            RelaxationModel(
                prefix,
                quantity,
                (time_name,),
                ("m0",),
                ("m0", time_name),
                _single(recovery),
                _identity_natural((1, 0)),
                description=kind_text,
            )
        )
        models.append(
            RelaxationModel(
                f"{prefix}_stretched",
                quantity,
                (time_name, "beta"),
                ("m0",),
                ("m0", time_name, "beta"),
                _stretched(recovery),
                _identity_natural((2, 0, 1)),
                stretched=True,
                description=kind_text.replace("t/T1)", "(t/T1)^beta)").replace(
                    "t/T2)", "(t/T2)^beta)"
                ),
            )
        )
        models.append(
            RelaxationModel(
                f"{prefix}_biexponential",
                quantity,
                ("t_a_s", "t_b_s"),
                ("a", "b"),
                ("m0", "fraction_fast", "t_fast_s", "t_slow_s"),
                _biexponential(recovery),
                _biexponential_natural,
                components=2,
                description="two components, " + kind_text,
            )
        )
    models.append(
        RelaxationModel(
            "inversion_recovery",
            "t1",
            ("t1_s",),
            ("a", "b"),
            ("m0", "t1_s", "inversion_factor"),
            _inversion_basis,
            _inversion_natural,
            description="M0 (1 - 2a exp(-t/T1))",
        )
    )
    return {m.name: m for m in models}


#: Every model by name (without offset; see :func:`get_model`).
MODELS: dict[str, RelaxationModel] = _make_models()

_DEFAULT_FOR_KIND = {
    "T1_saturation_recovery": "saturation_recovery",
    "T1_inversion_recovery": "inversion_recovery",
    "T2_hahn_echo": "hahn_echo",
    "T2_cpmg": "hahn_echo",
}


def default_model_for_kind(kind: str) -> str:
    """Model used for a relaxation ``kind`` when the user asks for ``model="auto"``."""
    try:
        return _DEFAULT_FOR_KIND[kind]
    except KeyError:
        raise ParameterError(
            f"relaxation kind {kind!r} has no default model (known: {', '.join(_DEFAULT_FOR_KIND)})"
        ) from None


def get_model(name: str, offset: bool = False) -> RelaxationModel:
    """Model ``name`` (see :data:`MODELS`), optionally with a constant ``offset``."""
    try:
        model = MODELS[name]
    except KeyError:
        raise ParameterError(
            f"unknown relaxation model {name!r} (known: auto, {', '.join(MODELS)})"
        ) from None
    if offset:
        if name == "inversion_recovery":
            raise ParameterError(
                "inversion_recovery already has a free baseline (M0 and a); offset=True would "
                "make the fit degenerate"
            )
        return model.with_offset()
    return model


def model_function(name: str, offset: bool = False) -> Callable[..., Array]:
    """Plain ``f(t, *natural_params)`` of a model, in natural parameter order (for users and for
    checks against :func:`scipy.optimize.curve_fit`)."""
    model = get_model(name, offset)

    def f(t: Array, *params: float) -> Array:
        t = np.asarray(t, dtype=float)
        p = dict(zip(model.natural_names, params, strict=True))
        off = p.get("offset", 0.0)
        if model.name.startswith("inversion_recovery"):
            return p["m0"] * (1.0 - 2.0 * p["inversion_factor"] * np.exp(-t / p["t1_s"])) + off
        recovery = model.name.startswith("saturation_recovery")
        if model.components == 2:
            e_fast = np.exp(-t / p["t_fast_s"])
            e_slow = np.exp(-t / p["t_slow_s"])
            if recovery:
                e_fast, e_slow = 1.0 - e_fast, 1.0 - e_slow
            frac = p["fraction_fast"]
            return p["m0"] * (frac * e_fast + (1.0 - frac) * e_slow) + off
        time_s = p[model.nonlinear[0]]
        beta = p.get("beta", 1.0)
        e = np.exp(-((t / time_s) ** beta))
        return p["m0"] * (1.0 - e if recovery else e) + off

    f.__name__ = model.name
    return f
