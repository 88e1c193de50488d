"""The integer network (docs/design.md §2): one set of integers that every backend runs bit for bit.

This module is the data model and its file, ``intnet.json``: :class:`IntLayer`, :class:`IntNetwork`,
their validation, the static register widths a hardware generator sizes its datapath from, and the
``arithmetic`` block that states the rules below as numbers. The quantiser that makes an
``IntNetwork`` from a float NIR chain is :mod:`neurocal.quantize`; the calibration-data headroom
report is :mod:`neurocal.headroom`; the executable statement of the arithmetic is
:mod:`neurocal.golden`.

Integer semantics (lava-nc 0.10.0 ``PyDenseModelBitAcc`` + ``PyLifModelBitAcc``)
---------------------------------------------------------------------------------

Per layer, per tick, for every event starting from zero state (``u = v = 0``, Dense buffer empty);
``du``, ``dv``, ``vth`` are per neuron (one value when a layer is uniform):

==================  ===========================================================================
quantity            integer rule
==================  ===========================================================================
weights ``w``       what Lava's Dense holds after its own clip/truncate: mixed-sign layers even
                    values in [−256, 254] (8-bit mantissa × 2: Lava drops the lowest bit),
                    excitatory [0, 255], inhibitory [−255, 0]
synaptic input      ``a = (Σ_{inputs that spiked at t−1} w) << weight_exp`` (``>>``, flooring, if
                    negative), int32: Dense delivers one tick late
current             ``d = trunc0(u·(4096 − (du + 1)) / 4096) + (a << 6)`` in int32 (wraps);
                    then Lava's single-correction wrap: ``w = d − 2^24 if d > 2^23 else d``;
                    ``u = d + 2^24 if w ≤ −2^23 else w`` (so ``u = 2^23`` stays, ``−2^23`` → ``+2^23``)
voltage             ``v ← clip(trunc0(v·(4096 − dv) / 4096) + u + bias, ±(2^23 − 1))``, the sum in
                    int32 (wraps before the clip), ``bias = bias_mant << bias_exp`` (not shifted by 6)
spike               ``v > vth << 6`` (strict), then ``v ← 0``; a layer with ``spiking = false`` (the
                    membrane readout) never fires, whatever its ``vth``: the flag is the only marker,
                    a backend that needs a magic threshold derives it itself
delay               layer ``l`` (0-based) answers input tick ``t`` at tick ``t + l + 1``; an event
                    of T ticks runs T + L ticks
==================  ===========================================================================

``trunc0(x·c / 4096)`` is ``sign(x·c)·(|x·c| >> 12)`` with the product in int64. Lava's LIF input
port is declared 16-bit but the Python model carries ``a`` as int32: values beyond ±2^15 pass
unchanged in Lava (the headroom report flags them, Loihi silicon would saturate).

Static widths (:func:`static_widths`) bound ``|a|``, the pre-wrap current sum ``|d|`` and the
pre-clip voltage sum over *any* input, from the weights and parameters alone — what an exact RTL
or HLS datapath must hold (capped at 32 bits: beyond that the contract is int32 wrap-around).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurocal.atomic import write_text_atomic
from neurocal.errors import NeurocalError

SCHEMA = "neurocal.intnet"
SCHEMA_VERSION = 3  # 3: the hash also covers the float scales that decode the outputs
READABLE_VERSIONS = (1, 2, 3)

# Loihi / lava-nc 0.10.0 bit widths (PyLifModelBitAcc, PyDenseModelBitAcc)
UV_BITS = 24
UV_LIMIT = 1 << (UV_BITS - 1)  # u, v are signed 24-bit
V_MAX = UV_LIMIT - 1
DECAY_SHIFT = 12
DECAY_UNITY = 1 << DECAY_SHIFT  # du, dv are unsigned 12-bit
DS_OFFSET = 1  # current decay uses du + 1 (Loihi's 1-bit offset)
DM_OFFSET = 0
VTH_BITS = 17
VTH_MAX = (1 << VTH_BITS) - 1  # vth is unsigned 17-bit
BIAS_MANT_MAX = 4095  # bias_mant is signed 13-bit
BIAS_EXP_MAX = 7  # bias_exp is unsigned 3-bit
WEIGHT_EXP_MIN, WEIGHT_EXP_MAX = -8, 7
NUM_WEIGHT_BITS = 8
ACT_SHIFT = 6  # synaptic input and threshold are MSB-aligned by 6 bits
VTH_SHIFT = 6
SUM_BITS = 32  # lava-nc carries a, u and v sums as int32 and lets them wrap
INPUT_PORT_BITS = 16
INPUT_PORT = 1 << (INPUT_PORT_BITS - 1)  # Loihi's LIF input port (Lava's Python model does not enforce it)

# The rules above as numbers, written into every intnet.json; a file stating other rules is refused.
ARITHMETIC: dict[str, Any] = {
    "reference": "lava-nc 0.10.0 PyDenseModelBitAcc + PyLifModelBitAcc (Loihi2SimCfg select_tag='fixed_pt')",
    "sum_bits": SUM_BITS,
    "sum_overflow": "wrap (two's complement int32)",
    "weights": {"mantissa_bits": NUM_WEIGHT_BITS, "mixed_sign": "even values in [-256, 254]",
                "excitatory": [0, 255], "inhibitory": [-255, 0], "weight_exp": [WEIGHT_EXP_MIN, WEIGHT_EXP_MAX]},
    "synaptic_input": {"rule": "a = sum(w of inputs spiking at t-1) << weight_exp (>> flooring if negative)",
                       "bits": SUM_BITS, "loihi_port_bits": INPUT_PORT_BITS},
    "decay": {"shift": DECAY_SHIFT, "unity": DECAY_UNITY, "rounding": "toward zero: sign(x*c) * (|x*c| >> 12)",
              "product_bits": 64, "du_offset": DS_OFFSET, "dv_offset": DM_OFFSET},
    "current": {"rule": "d = trunc0(u * (4096 - (du + 1)) / 4096) + (a << 6)", "act_shift": ACT_SHIFT,
                "wrap": "w = d - 2^24 if d > 2^23 else d; u = d + 2^24 if w <= -2^23 else w",
                "wrap_limit": UV_LIMIT, "wrap_span": 2 * UV_LIMIT},
    "voltage": {"rule": "v = clip(trunc0(v * (4096 - dv) / 4096) + u + (bias_mant << bias_exp), -vmax, vmax)",
                "clip": [-V_MAX, V_MAX], "bias_mant_bits": 13, "bias_exp": [0, BIAS_EXP_MAX]},
    "spike": {"rule": "v > vth << 6, then v = 0; never when spiking = false", "vth_shift": VTH_SHIFT,
              "vth_bits": VTH_BITS, "reset": "zero"},
    "delay": "layer l answers input tick t at tick t + l + 1; an event of T ticks runs T + L ticks",
    "state": "u = v = 0 and the Dense buffers empty at the start of every event",
}

DEFAULT_FRONTEND: dict[str, Any] = {"kind": "threshold", "thresholds": [1e2, 1e3, 1e4, 1e5], "n_ticks": 100,
                                    "tick_ns": 0.2}

_PER_NEURON = ("du", "dv", "vth")


# ----------------------------------------------------------------------------------------- helpers


def sign_mode(weights: np.ndarray) -> str:
    """Lava's ``determine_sign_mode`` on an integer weight matrix."""
    if np.min(weights, initial=0) >= 0:
        return "excitatory"
    if np.max(weights, initial=0) <= 0:
        return "inhibitory"
    return "mixed"


def lava_dense_weights(weights: np.ndarray) -> np.ndarray:
    """What Lava's bit-accurate Dense makes of ``weights`` (clip to 8 bits, drop a bit if mixed)."""
    w = np.asarray(weights).astype(np.int64)
    mode = sign_mode(w)
    if mode == "mixed":
        return (np.clip(w, -256, 255) >> 1) << 1
    if mode == "inhibitory":
        return -np.clip(-w, 0, 255)
    return np.clip(w, 0, 255)


def signed_bits(magnitude: int) -> int:
    """Width of a two's-complement register holding every value in [−magnitude, magnitude]."""
    return int(magnitude).bit_length() + 1


def identical_rows(keys: np.ndarray) -> list[np.ndarray]:
    """Indices of the rows of ``keys`` (n, k) grouped by identical values, groups in order of first appearance."""
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    return [np.flatnonzero(inverse == g) for g in np.argsort(first)]


def _per_neuron(value: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,):
        raise NeurocalError(f"field '{name}' has shape {arr.shape}, expected a scalar or ({n},)")
    return arr.astype(np.int64).astype(np.int32)


def _compact(arr: np.ndarray) -> int | list[int]:
    """A scalar when every neuron shares the value (how the file writes a uniform layer)."""
    return int(arr[0]) if arr.size and np.all(arr == arr[0]) else arr.astype(int).tolist()


# ----------------------------------------------------------------------------------------- data model


@dataclass
class IntLayer:
    """One Dense → LIF layer in integers (see the module docstring for the arithmetic).

    ``du``, ``dv``, ``vth`` are per-neuron int32 arrays of shape (n_out,); a scalar given to the
    constructor is broadcast.
    """

    name: str  # NIR neuron node
    synapse: str  # NIR synapse node
    kind: str
    weights: np.ndarray  # int (out, in): Lava Dense weights after its clip/truncate
    weight_exp: int
    bias_mant: np.ndarray  # int (out,), 13-bit signed
    bias_exp: int
    du: np.ndarray
    dv: np.ndarray
    vth: np.ndarray  # 17-bit; the threshold is vth << 6
    spiking: bool = True  # False: membrane readout that never fires
    scale: float = 1.0  # λ: v_float ≈ v / (64 λ)
    weight_step: float = 1.0  # float value of one weight LSB

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights).astype(np.int64).astype(np.int32)
        self.bias_mant = np.asarray(self.bias_mant).astype(np.int64).astype(np.int32).reshape(-1)
        n = self.weights.shape[0] if self.weights.ndim == 2 else 0
        for name in _PER_NEURON:
            setattr(self, name, _per_neuron(getattr(self, name), n, f"{self.name}.{name}"))

    @property
    def n_in(self) -> int:
        return int(self.weights.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[0])

    @property
    def sign_mode(self) -> str:
        return sign_mode(self.weights)

    @property
    def effective_bias(self) -> np.ndarray:
        return self.bias_mant.astype(np.int32) << np.int32(self.bias_exp)

    @property
    def readout_scale(self) -> float:
        """Multiply an integer voltage by this to get the float voltage."""
        return 1.0 / (64.0 * self.scale)

    @property
    def uniform(self) -> bool:
        """True if every neuron shares ``du``, ``dv`` and ``vth`` (one Lava LIF process suffices)."""
        return all(bool(np.all(getattr(self, k) == getattr(self, k)[0])) for k in _PER_NEURON)

    def parameter_groups(self) -> list[np.ndarray]:
        """Neuron indices grouped by identical ``(du, dv, vth)``, in order of first appearance."""
        return identical_rows(np.stack([self.du, self.dv, self.vth], axis=1))

    def integer_content(self) -> dict[str, Any]:
        return {
            "n_in": self.n_in,
            "n_out": self.n_out,
            "weights": self.weights.tolist(),
            "weight_exp": int(self.weight_exp),
            "num_weight_bits": NUM_WEIGHT_BITS,
            "bias_mant": self.bias_mant.tolist(),
            "bias_exp": int(self.bias_exp),
            "du": _compact(self.du),
            "dv": _compact(self.dv),
            "vth": _compact(self.vth),
            "spiking": bool(self.spiking),
        }


@dataclass(frozen=True)
class LayerWidths:
    """Worst case over any input of one layer's quantities, from the weights and parameters alone.

    ``a_max`` bounds |a| (after ``weight_exp``, before ``<< 6``); ``u_max`` the current sum |d|
    before the wrap (and so |u|); ``v_max`` the voltage sum before the clip. A bound that reaches
    2^31 means int32 wrap-around can happen: the register must then be exactly 32 bits and wrap.
    ``*_bits`` are the signed widths that hold them (≤ 32).
    """

    a_max: int
    u_max: int
    v_max: int

    @property
    def a_bits(self) -> int:
        return min(signed_bits(self.a_max), SUM_BITS)

    @property
    def u_bits(self) -> int:
        return min(signed_bits(self.u_max), SUM_BITS)

    @property
    def v_bits(self) -> int:
        return min(signed_bits(self.v_max), SUM_BITS)

    @property
    def wraps_int32(self) -> bool:
        return max(self.a_max << ACT_SHIFT, self.u_max, self.v_max) >= 1 << (SUM_BITS - 1)

    def to_dict(self) -> dict[str, Any]:
        return {"a_max": self.a_max, "u_max": self.u_max, "v_max": self.v_max, "a_bits": self.a_bits,
                "u_bits": self.u_bits, "v_bits": self.v_bits, "wraps_int32": self.wraps_int32}


def layer_widths(layer: IntLayer) -> LayerWidths:
    """Static worst-case widths of ``layer`` (see :class:`LayerWidths`).

    ``|a| ≤ max_row(Σ w⁺, Σ |w⁻|)`` shifted by ``weight_exp`` (a floor for a negative exponent
    rounds the negative side away from zero). With ``A = |a| << 6`` and ``c = 4096 − (du + 1)`` the
    current obeys ``|d| ≤ |u|·c/4096 + A``, so by induction ``|u|, |d| ≤ U = ⌈A·4096/(du + 1)⌉``
    (the single-correction wrap never increases |d| beyond max(U, 2^23), and U ≥ 2^23 whenever a
    wrap can happen). The voltage sum is ``|trunc0(v·…)| + |u| + |bias| ≤ (2^23 − 1) + U + |bias|``.
    """
    limit = 1 << (SUM_BITS - 1)
    w = layer.weights.astype(np.int64)
    pos = int(np.clip(w, 0, None).sum(axis=1).max(initial=0))
    neg = int(np.clip(-w, 0, None).sum(axis=1).max(initial=0))
    e = int(layer.weight_exp)
    a_max = max(pos << e, neg << e) if e >= 0 else max(pos >> -e, -((-neg) >> -e))
    a6 = min(a_max << ACT_SHIFT, limit)
    du_min = int(layer.du.min(initial=DECAY_UNITY - 1)) if layer.n_out else DECAY_UNITY - 1
    u_max = min(-(-a6 * DECAY_UNITY // (du_min + DS_OFFSET)), limit)
    bias_max = int(np.abs(layer.effective_bias.astype(np.int64)).max(initial=0))
    v_max = min(V_MAX + u_max + bias_max, limit)
    return LayerWidths(a_max=min(a_max, limit), u_max=u_max, v_max=v_max)


@dataclass
class IntNetwork:
    """Integer layers, the front end they were trained with, and what decodes their outputs."""

    n_inputs: int
    layers: list[IntLayer]
    readout: str = "spikes"  # "membrane": last layer never fires, its final voltage is the output
    dt: float = 1e-4
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = "<memory>"
    config: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    frontend: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_FRONTEND))

    def __post_init__(self) -> None:
        self.validate()

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    def validate(self) -> None:
        """Check every field against the Lava bit widths; errors name the layer and the field."""
        width = self.n_inputs
        if not self.layers:
            raise NeurocalError(f"{self.source}: the integer network has no layer")
        for i, layer in enumerate(self.layers):
            where = f"{self.source}: layer {i} ('{layer.name}')"
            if layer.weights.ndim != 2 or layer.n_in != width:
                raise NeurocalError(
                    f"{where}: field 'weights' has shape {layer.weights.shape}, expected (n_out, {width})"
                )
            if not np.array_equal(lava_dense_weights(layer.weights), layer.weights):
                raise NeurocalError(
                    f"{where}: field 'weights' holds values Lava's Dense would change (8-bit range; even values "
                    f"for mixed-sign layers); re-run neurocal quantize"
                )
            checks = (
                ("weight_exp", WEIGHT_EXP_MIN <= layer.weight_exp <= WEIGHT_EXP_MAX, "−8..7"),
                ("bias_exp", 0 <= layer.bias_exp <= BIAS_EXP_MAX, "0..7"),
                ("bias_mant", layer.bias_mant.shape == (layer.n_out,)
                 and bool(np.all(np.abs(layer.bias_mant) <= BIAS_MANT_MAX + (layer.bias_mant < 0))), "13-bit signed"),
                ("du", bool(np.all((layer.du >= 0) & (layer.du < DECAY_UNITY))), "0..4095"),
                ("dv", bool(np.all((layer.dv >= 0) & (layer.dv < DECAY_UNITY))), "0..4095"),
                ("vth", bool(np.all((layer.vth >= 0) & (layer.vth <= VTH_MAX))), "0..131071"),
            )
            for name, ok, rng in checks:
                if not ok:
                    raise NeurocalError(f"{where}: field '{name}' is out of range ({rng})")
            width = layer.n_out
        if self.readout not in ("membrane", "spikes"):
            raise NeurocalError(f"{self.source}: field 'readout' is {self.readout!r}; use 'membrane' or 'spikes'")

    def static_widths(self) -> list[LayerWidths]:
        """Per layer, the worst-case register widths over any input (:func:`layer_widths`)."""
        return [layer_widths(layer) for layer in self.layers]

    # ----- identity and files

    def integer_content(self) -> dict[str, Any]:
        """Every integer a backend runs, and the front end that makes its input (what schema 2 hashed)."""
        return {
            "n_inputs": int(self.n_inputs),
            "readout": self.readout,
            "layers": [layer.integer_content() for layer in self.layers],
            "frontend": self.frontend,
        }

    def hashed_content(self) -> dict[str, Any]:
        """What the hash covers: :meth:`integer_content` and the floats that turn results into reported
        values — each layer's ``scale`` (v_float = v / (64 λ)) and ``weight_step``, and ``dt``."""
        return {**self.integer_content(), "dt": float(self.dt),
                "decoding": [{"scale": float(layer.scale), "weight_step": float(layer.weight_step)}
                             for layer in self.layers]}

    @property
    def content_hash(self) -> str:
        return _sha256_of(self.hashed_content())

    def to_dict(self) -> dict[str, Any]:
        layers = []
        for layer, widths in zip(self.layers, self.static_widths(), strict=True):
            entry = {"name": layer.name, "synapse": layer.synapse, "kind": layer.kind, "sign_mode": layer.sign_mode}
            entry.update(layer.integer_content())
            entry.update(
                scale=layer.scale,
                weight_step=layer.weight_step,
                readout_scale=layer.readout_scale,
                static_widths=widths.to_dict(),
            )
            layers.append(entry)
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "content_hash": self.content_hash,
            "arithmetic": ARITHMETIC,
            "n_inputs": self.n_inputs,
            "readout": self.readout,
            "frontend": self.frontend,
            "dt": self.dt,
            "source": self.source,
            "metadata": self.metadata,
            "config": self.config,
            "calibration": self.calibration,
            "layers": layers,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSON atomically (whole file or nothing)."""
        path = Path(path)
        write_text_atomic(path, json.dumps(self.to_dict(), indent=1, default=_json_default) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> IntNetwork:
        """Build from a parsed ``intnet.json`` (schema 1 or 2), validating types before any cast.

        A version-2 file must state this module's ``arithmetic`` and carry the hash of exactly the
        validated content; a version-1 file (no front end, no per-neuron parameters) is read with the
        default front end and its v1 hash is checked the way v1 computed it.
        """
        if data.get("schema") != SCHEMA:
            raise NeurocalError(
                f"{source}: field 'schema' is {data.get('schema')!r}, expected {SCHEMA!r}: not an integer network"
            )
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise NeurocalError(
                f"{source}: schema_version {version!r} is not supported (this neurocal reads "
                f"{', '.join(map(str, READABLE_VERSIONS))}); re-run neurocal quantize"
            )
        if version >= 2 and data.get("arithmetic") != ARITHMETIC:
            raise NeurocalError(
                f"{source}: field 'arithmetic' states other integer rules than this neurocal implements; "
                f"re-run neurocal quantize with this version"
            )
        fields = _Fields(data, source)
        layers = []
        for i, entry in enumerate(fields.list("layers")):
            lf = _Fields(entry, f"{source}: layer {i}")
            n_out, n_in = lf.int("n_out", 1, None), lf.int("n_in", 1, None)
            lf.int("num_weight_bits", NUM_WEIGHT_BITS, NUM_WEIGHT_BITS)  # the only width Lava's Dense runs here
            layers.append(
                IntLayer(
                    name=lf.str("name"), synapse=lf.str("synapse"), kind=lf.str("kind"),
                    weights=lf.int_array("weights", (n_out, n_in), -256, 255), weight_exp=lf.int("weight_exp"),
                    bias_mant=lf.int_array("bias_mant", (n_out,), -BIAS_MANT_MAX - 1, BIAS_MANT_MAX),
                    bias_exp=lf.int("bias_exp", 0, BIAS_EXP_MAX),
                    du=lf.int_array("du", (n_out,), 0, DECAY_UNITY - 1, scalar_ok=True),
                    dv=lf.int_array("dv", (n_out,), 0, DECAY_UNITY - 1, scalar_ok=True),
                    vth=lf.int_array("vth", (n_out,), 0, VTH_MAX, scalar_ok=True),
                    spiking=lf.bool("spiking"), scale=lf.float("scale", positive=True),
                    weight_step=lf.float("weight_step", positive=True),
                )
            )
        frontend = fields.dict("frontend") if version >= 2 else dict(DEFAULT_FRONTEND)
        net = cls(
            n_inputs=fields.int("n_inputs", 1, None), layers=layers, readout=fields.str("readout"),
            dt=fields.float("dt", positive=True), metadata=fields.dict("metadata", {}), source=source,
            config=fields.dict("config", {}), calibration=fields.dict("calibration", {}), frontend=frontend,
        )
        if version == 1:
            expected = _v1_hash(net)
        else:  # schema 2 hashed the integers and front end only; a v2 file's scales are range-checked above
            expected = _sha256_of(net.integer_content()) if version == 2 else net.content_hash
        if data.get("content_hash") != expected:
            raise NeurocalError(
                f"{source}: field 'content_hash' does not match the integer content (edited by hand?); "
                f"re-run neurocal quantize"
            )
        return net

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> IntNetwork:
        path = Path(path)
        if not path.is_file():
            raise NeurocalError(f"{path}: no such integer network file; create it with 'neurocal quantize'")
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise NeurocalError(f"{path}: not valid JSON ({err}); re-run neurocal quantize") from err
        if not isinstance(data, dict):
            raise NeurocalError(f"{path}: expected a JSON object")
        return cls.from_dict(data, source=str(path))

    def decode_voltage(self, v: np.ndarray, layer: int = -1) -> np.ndarray:
        """Integer voltages of ``layer`` → float voltages of the trained network."""
        return np.asarray(v, dtype=np.float64) * self.layers[layer].readout_scale


def _sha256_of(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _v1_hash(net: IntNetwork) -> str:
    """The content hash as schema 1 computed it (scalar du/dv/vth, no front end)."""
    content = {"n_inputs": int(net.n_inputs), "readout": net.readout, "layers": []}
    for layer in net.layers:
        entry = layer.integer_content()
        for key in _PER_NEURON:
            entry[key] = int(getattr(layer, key)[0])
        content["layers"].append(entry)
    return _sha256_of(content)


class _Fields:
    """Typed, range-checked access to one JSON object; every error names the file, the field and the fix."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise NeurocalError(f"{where}: expected a JSON object, got {type(data).__name__}")
        self.data, self.where = data, where

    def _get(self, name: str, default: Any = ...) -> Any:
        if name not in self.data:
            if default is not ...:
                return default
            raise NeurocalError(f"{self.where}: missing field '{name}'; re-run neurocal quantize")
        return self.data[name]

    def _bad(self, name: str, what: str) -> NeurocalError:
        return NeurocalError(f"{self.where}: field '{name}' {what}; re-run neurocal quantize")

    def int(self, name: str, lo: int | None = None, hi: int | None = None) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(name, f"must be an integer, got {value!r}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self._bad(name, f"is {value}, outside {lo}..{hi if hi is not None else '∞'}")
        return value

    def float(self, name: str, positive: bool = False) -> float:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self._bad(name, f"must be a finite number, got {value!r}")
        if positive and not value > 0:  # a scale or time step: results are divided by it
            raise self._bad(name, f"must be a finite number > 0, got {value!r}")
        return float(value)

    def str(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise self._bad(name, f"must be a string, got {value!r}")
        return value

    def bool(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise self._bad(name, f"must be true or false, got {value!r}")
        return value

    def dict(self, name: str, default: Any = ...) -> dict[str, Any]:
        value = self._get(name, default)
        if not isinstance(value, dict):
            raise self._bad(name, f"must be a JSON object, got {type(value).__name__}")
        return dict(value)

    def list(self, name: str) -> list[Any]:
        value = self._get(name)
        if not isinstance(value, list):
            raise self._bad(name, f"must be a list, got {type(value).__name__}")
        return value

    def int_array(self, name: str, shape: tuple[int, ...], lo: int, hi: int, scalar_ok: bool = False) -> np.ndarray:
        """A nested list of plain JSON integers of exactly ``shape`` in [lo, hi] (a scalar if ``scalar_ok``)."""
        value = self._get(name)
        if scalar_ok and not isinstance(value, list):
            value = [value] * shape[0]
        flat: list[Any] = []

        def walk(node: Any, dims: tuple[int, ...]) -> None:
            if not dims:
                if isinstance(node, bool) or not isinstance(node, int):
                    raise self._bad(name, f"must hold integers only, found {node!r}")
                flat.append(node)
                return
            if not isinstance(node, list) or len(node) != dims[0]:
                raise self._bad(name, f"must be a nested list of shape {shape}")
            for item in node:
                walk(item, dims[1:])

        walk(value, shape)
        if flat and (min(flat) < lo or max(flat) > hi):
            raise self._bad(name, f"holds values outside {lo}..{hi}")
        return np.asarray(value, dtype=np.int64).reshape(shape)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__}")
