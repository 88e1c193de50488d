"""The integer network (DESIGN §2): one set of integers that every backend runs bit for bit.

``quantize(chain, calibration)`` turns a float :class:`~neurocal.nirgraph.Chain` into an
:class:`IntNetwork`; ``IntNetwork.save``/``load`` write and read it as JSON with a schema version
and a sha256 ``content_hash`` over the integer content (firmware and driver carry the hash).

Integer semantics (lava-nc 0.10.0 ``PyDenseModelBitAcc`` + ``PyLifModelBitAcc``)
---------------------------------------------------------------------------------

Per layer, per tick, for every event starting from zero state (``u = v = 0``, Dense buffer empty):

==================  ===========================================================================
quantity            integer rule
==================  ===========================================================================
weights ``w``       what Lava's Dense holds after its own clip/truncate: mixed-sign layers even
                    values in [−256, 254] (8-bit mantissa × 2: Lava drops the lowest bit),
                    excitatory [0, 255], inhibitory [−255, 0]
synaptic input      ``a = (Σ_{inputs that spiked at t−1} w) << weight_exp`` (``>>`` flooring if
                    negative), as int32: Dense delivers one tick late
current             ``u ← wrap24(trunc0(u·(4095 − du) / 4096) + (a << 6))``: int32 arithmetic;
                    Lava's wrap: > 2^23 → −2^24, then ≤ −2^23 → +2^24 (u = 2^23 stays)
voltage             ``v ← clip(trunc0(v·(4096 − dv) / 4096) + u + bias, ±(2^23 − 1))``,
                    ``bias = bias_mant << bias_exp`` (not shifted by 6)
spike               ``v > vth << 6``, then ``v ← 0``; a layer with ``spiking = false`` (the
                    membrane readout) never fires: Lava realises it with ``vth = 2^17`` (then
                    ``vth << 6 = 2^23`` exceeds the largest ``v``), the golden model by the flag
delay               layer ``l`` (0-based) answers input tick ``t`` at tick ``t + l + 1``; an event
                    of T ticks runs T + L ticks
==================  ===========================================================================

``trunc0`` truncates toward zero (``sign(x)·(|x| >> 12)``). ``du = 4095`` is a current with no
memory (snnTorch ``Leaky``), ``dv = round(4096·(1 − β))``. Lava's LIF input port is declared
16-bit but the Python model carries ``a`` as int32: values beyond ±2^15 pass unchanged in Lava
and are counted by the headroom analysis (``a_in_over_16bit``) because Loihi silicon would not.

Scaling: a spiking layer with float threshold θ gets ``λ = vth_target / θ`` (``vth = 2048``
by default) unless the calibration events need a smaller λ to keep the synaptic input inside
¾ of the 16-bit input port and |v| inside ¾ of 24 bits (``headroom_fill``), so float voltage
``v_f ≈ v / (64 λ)`` and weights ``w·2^weight_exp ≈ λ·W``; the
membrane readout layer gets the largest λ that keeps its calibration peak ``|v|`` at 2^21
(4× below the 24-bit limit), its weights in 8 bits and its bias in 13 bits.
:func:`quant_grid` exposes λ and the weight step so that quantisation-aware training fakes
exactly this quantiser.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurocal.atomic import write_text_atomic
from neurocal.errors import NeurocalError
from neurocal.nirgraph import Chain, ChainLayer

SCHEMA = "neurocal.intnet"
SCHEMA_VERSION = 1

# Loihi / lava-nc 0.10.0 bit widths (PyLifModelBitAcc, PyDenseModelBitAcc)
UV_LIMIT = 1 << 23  # u, v are signed 24-bit
V_MAX = UV_LIMIT - 1
DECAY_UNITY = 4096  # du, dv are unsigned 12-bit
VTH_MAX = (1 << 17) - 1  # vth is unsigned 17-bit
VTH_NEVER = 1 << 17  # vth << 6 = 2^23 > V_MAX: the LIF never fires (Lava sim accepts it)
BIAS_MANT_MAX = 4095  # bias_mant is signed 13-bit
BIAS_EXP_MAX = 7  # bias_exp is unsigned 3-bit
WEIGHT_EXP_MIN, WEIGHT_EXP_MAX = -8, 7
NUM_WEIGHT_BITS = 8
ACT_SHIFT = 6  # synaptic input and threshold are MSB-aligned by 6 bits
INPUT_PORT = 1 << 15  # Loihi's LIF input port is signed 16-bit (Lava's Python model does not enforce it)


@dataclass(frozen=True)
class QuantConfig:
    """Choices of the quantiser; the defaults are what ``neurocal quantize`` uses."""

    vth_target: int = 2048  # integer threshold of spiking layers: 2^11 leaves 2^6 headroom to 2^23 >> 6
    readout_peak: int = 1 << 21  # target calibration peak |v| of a membrane readout layer
    # A spiking layer's λ is lowered, if need be, so that its calibration peaks use at most this
    # fraction of the 16-bit input port and of the 24-bit voltage (margin for events not calibrated on).
    headroom_fill: float = 0.75
    min_vth: int = 64  # below this the threshold (and every weight with it) keeps too few integer steps
    weight_exp_min: int = WEIGHT_EXP_MIN
    weight_exp_max: int = WEIGHT_EXP_MAX

    def __post_init__(self) -> None:
        if not 1 <= self.vth_target <= VTH_MAX:
            raise NeurocalError(f"vth_target {self.vth_target} is outside 1..{VTH_MAX} (17-bit threshold)")
        if not 1 <= self.readout_peak <= V_MAX:
            raise NeurocalError(f"readout_peak {self.readout_peak} is outside 1..{V_MAX}")
        if not 0 < self.headroom_fill <= 1:
            raise NeurocalError(f"headroom_fill {self.headroom_fill} is outside (0, 1]")


@dataclass(frozen=True)
class LayerGrid:
    """Quantisation grid of one layer: float weight W ↦ clip(round(W / step), q_min, q_max) · step.

    ``scale`` is λ (integer threshold units per float unit); ``q = round(W/step)`` is the 8-bit
    mantissa and the Lava weight is ``q · (2 if mixed else 1)`` with exponent ``weight_exp``.
    """

    scale: float
    weight_exp: int
    mixed: bool
    q_min: int
    q_max: int

    @property
    def step(self) -> float:
        return float(2.0 ** (self.weight_exp + (1 if self.mixed else 0)) / self.scale)

    def fake_quantize(self, weight: np.ndarray) -> np.ndarray:
        """The float weights the integer network really uses (numpy; torch code mirrors it)."""
        return np.clip(np.round(np.asarray(weight) / self.step), self.q_min, self.q_max) * self.step

    def threshold(self, theta: float) -> int:
        """Integer threshold of a spiking layer with float threshold θ: round(λ·θ) (``vth_target`` unless
        the calibration lowered λ)."""
        return int(min(max(round(self.scale * theta), 1), VTH_MAX))

    def mantissa(self, weight: np.ndarray) -> np.ndarray:
        return np.clip(np.round(np.asarray(weight) / self.step), self.q_min, self.q_max).astype(np.int64)


def layer_grid(
    weight: np.ndarray, scale: float, *, config: QuantConfig | None = None, where: str = "layer"
) -> LayerGrid:
    """The grid for float weights ``weight`` (out, in) at scale λ; raises if 8 bits cannot hold them."""
    config = config or QuantConfig()
    w = np.asarray(weight, dtype=np.float64) * scale
    w_max, w_min = float(w.max(initial=0.0)), float(w.min(initial=0.0))
    mixed = w_max > 0 and w_min < 0
    if mixed:
        # Lava clips mixed weights to [−256, 255] and drops the lowest bit: mantissa q ∈ [−128, 127], w = 2q.
        q_min, q_max, shift = -128, 127, 1
        need = max(w_max / 127.0, -w_min / 128.0)
    elif w_min < 0:
        q_min, q_max, shift = -255, 0, 0
        need = -w_min / 255.0
    else:
        q_min, q_max, shift = 0, 255, 0
        need = w_max / 255.0
    if need == 0:
        return LayerGrid(scale=scale, weight_exp=0, mixed=False, q_min=q_min, q_max=q_max)
    exp = max(config.weight_exp_min, math.ceil(math.log2(need)) - shift)
    if exp > config.weight_exp_max:
        raise NeurocalError(
            f"{where}: field 'weight' overflows 8 bits after scaling by λ = {scale:.6g} (largest |λ·w| = "
            f"{max(w_max, -w_min):.6g} needs weight_exp {exp} > {config.weight_exp_max}); the weights are too "
            f"large for the threshold: lower vth_target (--vth-target) or retrain with smaller weights"
        )
    return LayerGrid(scale=scale, weight_exp=exp, mixed=mixed, q_min=q_min, q_max=q_max)


# ----------------------------------------------------------------------------------------- data model


@dataclass
class IntLayer:
    """One Dense → LIF layer in integers (see the module docstring for the arithmetic)."""

    name: str  # NIR neuron node
    synapse: str  # NIR synapse node
    kind: str
    weights: np.ndarray  # int (out, in): Lava Dense weights after its clip/truncate
    weight_exp: int
    bias_mant: np.ndarray  # int (out,), 13-bit signed
    bias_exp: int
    du: int
    dv: int
    vth: int  # 17-bit; the threshold is vth << 6
    spiking: bool = True  # False: membrane readout that never fires
    scale: float = 1.0  # λ: v_float ≈ v / (64 λ)
    weight_step: float = 1.0  # float value of one weight LSB

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.int32)
        self.bias_mant = np.asarray(self.bias_mant, dtype=np.int32).reshape(-1)

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
    def lava_vth(self) -> int:
        """The vth handed to Lava's LIF (2^17 for a layer that must never fire)."""
        return self.vth if self.spiking else VTH_NEVER

    def integer_content(self) -> dict[str, Any]:
        return {
            "n_in": self.n_in,
            "n_out": self.n_out,
            "weights": self.weights.tolist(),
            "weight_exp": int(self.weight_exp),
            "num_weight_bits": NUM_WEIGHT_BITS,
            "bias_mant": self.bias_mant.tolist(),
            "bias_exp": int(self.bias_exp),
            "du": int(self.du),
            "dv": int(self.dv),
            "vth": int(self.vth),
            "spiking": bool(self.spiking),
        }


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


@dataclass
class IntNetwork:
    """Integer layers plus what is needed to decode their outputs (float scales, chain metadata)."""

    n_inputs: int
    layers: list[IntLayer]
    readout: str = "spikes"  # "membrane": last layer never fires, its final voltage is the output
    dt: float = 1e-4
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = "<memory>"
    config: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)

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
                ("du", 0 <= layer.du < DECAY_UNITY, "0..4095"),
                ("dv", 0 <= layer.dv < DECAY_UNITY, "0..4095"),
                ("vth", 0 <= layer.vth <= VTH_MAX, "0..131071"),
            )
            for name, ok, rng in checks:
                if not ok:
                    raise NeurocalError(f"{where}: field '{name}' is out of range ({rng})")
            width = layer.n_out
        if self.readout not in ("membrane", "spikes"):
            raise NeurocalError(f"{self.source}: field 'readout' is {self.readout!r}; use 'membrane' or 'spikes'")

    # ----- identity and files

    def integer_content(self) -> dict[str, Any]:
        return {
            "n_inputs": int(self.n_inputs),
            "readout": self.readout,
            "layers": [layer.integer_content() for layer in self.layers],
        }

    @property
    def content_hash(self) -> str:
        canonical = json.dumps(self.integer_content(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        layers = []
        for layer in self.layers:
            entry = {"name": layer.name, "synapse": layer.synapse, "kind": layer.kind, "sign_mode": layer.sign_mode}
            entry.update(layer.integer_content())
            entry.update(
                scale=layer.scale,
                weight_step=layer.weight_step,
                readout_scale=layer.readout_scale,
                lava_vth=layer.lava_vth,
            )
            layers.append(entry)
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "content_hash": self.content_hash,
            "n_inputs": self.n_inputs,
            "readout": self.readout,
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
        if data.get("schema") != SCHEMA:
            raise NeurocalError(
                f"{source}: field 'schema' is {data.get('schema')!r}, expected {SCHEMA!r}: not an integer network"
            )
        if data.get("schema_version") != SCHEMA_VERSION:
            raise NeurocalError(
                f"{source}: schema_version {data.get('schema_version')!r} is not supported (this neurocal reads "
                f"{SCHEMA_VERSION}); re-run neurocal quantize"
            )
        try:
            layers = [
                IntLayer(
                    name=str(e["name"]), synapse=str(e["synapse"]), kind=str(e["kind"]),
                    weights=np.asarray(e["weights"], dtype=np.int64), weight_exp=int(e["weight_exp"]),
                    bias_mant=np.asarray(e["bias_mant"], dtype=np.int64), bias_exp=int(e["bias_exp"]),
                    du=int(e["du"]), dv=int(e["dv"]), vth=int(e["vth"]), spiking=bool(e["spiking"]),
                    scale=float(e["scale"]), weight_step=float(e["weight_step"]),
                )
                for e in data["layers"]
            ]
            net = cls(
                n_inputs=int(data["n_inputs"]), layers=layers, readout=str(data["readout"]), dt=float(data["dt"]),
                metadata=dict(data.get("metadata", {})), source=source, config=dict(data.get("config", {})),
                calibration=dict(data.get("calibration", {})),
            )
        except KeyError as err:
            raise NeurocalError(f"{source}: missing field {err.args[0]!r}; re-run neurocal quantize") from err
        except (TypeError, ValueError) as err:
            raise NeurocalError(f"{source}: malformed field ({err}); re-run neurocal quantize") from err
        if data.get("content_hash") != net.content_hash:
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


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


# ----------------------------------------------------------------------------------------- float reference


def simulate_float(chain: Chain, spikes: np.ndarray, *, delay: bool = True) -> list[dict[str, np.ndarray]]:
    """Float simulation of ``chain`` on boolean spikes (events, ticks, n_in), Lava ``floating_pt``-style.

    With ``delay`` the layers are staggered like the integer network (T + L ticks). The membrane
    readout layer never fires. Returns per layer ``spikes``, ``v_final``, ``v_peak`` (events, n) and
    ``drive_peak`` (events, n): the largest |W·s| of one tick, which becomes the integer synaptic input.
    """
    spikes = np.asarray(spikes, dtype=bool)
    n_ev, n_t, _ = spikes.shape
    n_layers = len(chain.layers)
    total = n_t + (n_layers if delay else 0)
    pre = np.zeros((n_ev, total, spikes.shape[2]), dtype=np.float64)
    pre[:, :n_t] = spikes
    out = []
    for i, layer in enumerate(chain.layers):
        spiking = not (chain.readout == "membrane" and i == n_layers - 1)
        drive = pre @ layer.weight.T
        if delay:
            drive = np.concatenate([np.zeros_like(drive[:, :1]), drive[:, :-1]], axis=1)
        drive_peak = np.abs(drive).max(axis=1)
        alpha, beta, theta = float(layer.alpha[0]), float(layer.beta[0]), float(layer.threshold[0])
        cur = np.zeros((n_ev, layer.n_out))
        v = np.zeros((n_ev, layer.n_out))
        peak = np.zeros((n_ev, layer.n_out))
        s_out = np.zeros((n_ev, total, layer.n_out), dtype=bool)
        for t in range(total):
            cur = alpha * cur + drive[:, t]
            v = beta * v + cur + layer.bias
            np.maximum(peak, np.abs(v), out=peak)
            if spiking:
                fired = v > theta
                s_out[:, t] = fired
                v[fired] = 0.0
        out.append({"spikes": s_out, "v_final": v, "v_peak": peak, "drive_peak": drive_peak})
        pre = s_out.astype(np.float64)
    return out


# ----------------------------------------------------------------------------------------- quantiser


def _scalar(layer: ChainLayer, values: np.ndarray, field_name: str, what: str) -> float:
    vals = np.unique(np.asarray(values))
    if vals.size > 1:
        raise NeurocalError(
            f"node '{layer.neuron_name}': field '{field_name}' gives {vals.size} different {what} values in one layer; "
            f"Lava's LIF takes one du/dv/vth per process: train with one {what} per layer (or split the layer)"
        )
    return float(vals[0])


def _layer_floats(chain: Chain, i: int) -> tuple[float, float, float, bool]:
    """(alpha, beta, threshold, spiking) of layer i, checked."""
    layer = chain.layers[i]
    spiking = not (chain.readout == "membrane" and i == len(chain.layers) - 1)
    tau_field = {"LIF": "tau", "CubaLIF": "tau_mem", "IF": "r"}.get(layer.kind, "tau")
    beta = _scalar(layer, layer.beta, tau_field, "β")
    if not 0.0 < beta <= 1.0:
        raise NeurocalError(
            f"node '{layer.neuron_name}' ({layer.kind}): field '{tau_field}' gives β = 1 − dt/tau = {beta:.6g}, "
            f"outside (0, 1]; tau must be ≥ dt = {chain.dt:g} (snnTorch: 0 < beta ≤ 1)"
        )
    alpha = _scalar(layer, layer.alpha, "tau_syn", "α")
    if not 0.0 <= alpha < 1.0:
        raise NeurocalError(
            f"node '{layer.neuron_name}' ({layer.kind}): field 'tau_syn' gives α = {alpha:.6g}, outside [0, 1)"
        )
    theta = _scalar(layer, layer.threshold, "v_threshold", "threshold")
    if spiking and theta <= 0:
        raise NeurocalError(
            f"node '{layer.neuron_name}' ({layer.kind}): field 'v_threshold' is {theta:g}; a spiking layer needs a "
            f"threshold > 0"
        )
    return alpha, beta, theta, spiking


def quant_grid(
    chain: Chain, calibration: np.ndarray | None = None, config: QuantConfig | None = None
) -> list[LayerGrid]:
    """Per-layer quantisation grid (λ, weight exponent, mantissa range) of ``chain``.

    ``calibration`` (bool spikes (events, ticks, n_in)) sets the membrane readout's λ from its
    float peak |v|, and lowers a spiking layer's λ below ``vth_target/θ`` where the calibration's
    peak synaptic input or |v| would otherwise leave less than ``1 − headroom_fill`` of the 16-bit
    input port or the 24-bit voltage; without it every layer uses the threshold rule.
    """
    config = config or QuantConfig()
    floats = [_layer_floats(chain, i) for i in range(len(chain.layers))]
    sim = simulate_float(chain, calibration) if calibration is not None else None
    grids = []
    for i, layer in enumerate(chain.layers):
        alpha, _beta, theta, spiking = floats[i]
        where = f"{chain.source}: node '{layer.synapse_name}'"
        if spiking:
            scale = config.vth_target / theta
            if sim is not None:
                scale = min(scale, _headroom_scale(sim[i], config))
                if scale * theta < config.min_vth:
                    drive = float(sim[i]["drive_peak"].max(initial=0.0))
                    raise NeurocalError(
                        f"{where}: field 'weight': one tick's synaptic input on the calibration events "
                        f"(peak |W·s| = {drive:.4g}) is {drive / theta:.4g}× the threshold {theta:.4g}; to fit the "
                        f"16-bit input port the integer threshold would keep only {scale * theta:.1f} steps "
                        f"(< {config.min_vth}): retrain with smaller weights or a larger threshold"
                    )
        else:
            peak = float(sim[i]["v_peak"].max(initial=0.0)) if sim is not None else None
            scale = _readout_scale(layer, alpha, theta, peak, config)
        grids.append(layer_grid(layer.weight, scale, config=config, where=where))
    return grids


def _headroom_scale(layer_sim: dict[str, np.ndarray], config: QuantConfig) -> float:
    """Largest λ at which the calibration's peak synaptic input and |v| fill ``headroom_fill`` of their widths."""
    limits = [math.inf]
    drive = float(layer_sim["drive_peak"].max(initial=0.0))
    if drive > 0:
        limits.append(config.headroom_fill * (INPUT_PORT - 1) / drive)
    v_peak = float(layer_sim["v_peak"].max(initial=0.0))
    if v_peak > 0:
        limits.append(config.headroom_fill * V_MAX / (64.0 * v_peak))
    return min(limits)


def _readout_scale(layer: ChainLayer, alpha: float, theta: float, peak: float | None, config: QuantConfig) -> float:
    w = np.abs(layer.weight)
    limits = []
    if peak and peak > 0:
        limits.append(config.readout_peak / (64.0 * peak))
    elif theta > 0:
        limits.append(config.vth_target / theta)
    if w.max(initial=0.0) > 0:  # largest λ whose weights fit with the largest exponent (mixed: 127 · 2^(e+1))
        limits.append(127.0 * 2.0 ** (config.weight_exp_max + 1) / float(w.max()))
    bias = np.abs(layer.bias).max(initial=0.0) / (1.0 - alpha)
    if bias > 0:
        limits.append(BIAS_MANT_MAX * 2.0**BIAS_EXP_MAX / (64.0 * bias))
    return float(min(limits)) if limits else float(config.vth_target)


def quantize_bias(bias: np.ndarray, where: str) -> tuple[np.ndarray, int]:
    """Integer bias (v units, per tick) → (13-bit mantissas, shared exponent) with ``mant << exp ≈ bias``.

    The smallest exponent that fits the signed 13-bit mantissa is used; ``where`` names the node in errors.
    Quantisation-aware training calls this too, so both land on the same grid.
    """
    target = np.round(bias).astype(np.int64)
    peak = int(np.abs(target).max(initial=0))
    exp = 0
    # 13-bit signed mantissa: [−4096, 4095]; a negative bias beyond −4096 needs an exponent too (not a clip)
    while exp <= BIAS_EXP_MAX and np.any(np.abs(np.round(target / 2**exp)) > BIAS_MANT_MAX + (target < 0)):
        exp += 1
    if exp > BIAS_EXP_MAX or peak > BIAS_MANT_MAX * 2**BIAS_EXP_MAX:
        raise NeurocalError(
            f"{where}: field 'bias' overflows the 13-bit mantissa × 2^7 after scaling (largest |64·λ·b| = {peak}); "
            f"the bias drives several thresholds per tick: retrain with a smaller bias or lower vth_target"
        )
    return np.clip(np.round(target / 2**exp), -BIAS_MANT_MAX - 1, BIAS_MANT_MAX).astype(np.int64), exp


def quantize(chain: Chain, calibration: np.ndarray | None = None, config: QuantConfig | None = None) -> IntNetwork:
    """Float chain (+ calibration spikes (events, ticks, n_in)) → :class:`IntNetwork`.

    Errors (:class:`NeurocalError`, naming the node and the field): β outside (0, 1], threshold ≤ 0,
    per-neuron β/threshold that differ in a layer, weights or bias that overflow after scaling.
    """
    config = config or QuantConfig()
    grids = quant_grid(chain, calibration, config)
    layers = []
    for i, (layer, grid) in enumerate(zip(chain.layers, grids, strict=True)):
        alpha, beta, theta, spiking = _layer_floats(chain, i)
        q = grid.mantissa(layer.weight)
        weights = q * (2 if grid.mixed else 1)
        # The chain adds the bias to the current; Lava adds it to v each tick: b/(1−α) matches the steady state.
        bias_mant, bias_exp = quantize_bias(
            64.0 * grid.scale * layer.bias / (1.0 - alpha), f"{chain.source}: node '{layer.synapse_name}'"
        )
        layers.append(
            IntLayer(
                name=layer.neuron_name,
                synapse=layer.synapse_name,
                kind=layer.kind,
                weights=weights,
                weight_exp=grid.weight_exp,
                bias_mant=bias_mant,
                bias_exp=bias_exp,
                du=int(np.clip(DECAY_UNITY - 1 - round(DECAY_UNITY * alpha), 0, DECAY_UNITY - 1)),
                dv=int(np.clip(round(DECAY_UNITY * (1.0 - beta)), 0, DECAY_UNITY - 1)),
                vth=grid.threshold(theta) if spiking else VTH_MAX,
                spiking=spiking,
                scale=grid.scale,
                weight_step=grid.step,
            )
        )
    return IntNetwork(
        n_inputs=chain.n_inputs,
        layers=layers,
        readout=chain.readout,
        dt=chain.dt,
        metadata=dict(chain.metadata),
        source=chain.source,
        config=asdict(config),
    )


# ----------------------------------------------------------------------------------------- headroom


@dataclass
class LayerHeadroom:
    name: str
    peak_u: int
    peak_v: int  # before the ±(2^23 − 1) clip
    peak_a_in: int
    u_wraps: int  # (event, tick, neuron) updates where u wrapped
    v_clips: int
    a_in_over_16bit: int
    spikes: int

    @property
    def u_bits(self) -> float:
        return math.log2(self.peak_u + 1) + 1

    @property
    def v_bits(self) -> float:
        return math.log2(self.peak_v + 1) + 1


@dataclass
class Headroom:
    events: int
    ticks: int
    layers: list[LayerHeadroom]

    @property
    def ok(self) -> bool:
        return all(h.u_wraps == 0 and h.v_clips == 0 and h.a_in_over_16bit == 0 for h in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "ticks": self.ticks,
            "ok": self.ok,
            "layers": [asdict(h) | {"u_bits": round(h.u_bits, 2), "v_bits": round(h.v_bits, 2)} for h in self.layers],
        }

    def to_markdown(self) -> str:
        lines = [
            f"# Headroom over {self.events} calibration events × {self.ticks} ticks",
            "",
            "u and v are signed 24-bit (limit 2^23 − 1 = 8388607); the LIF input port is 16-bit on Loihi.",
            "",
            "| layer | peak \\|u\\| (bits) | peak \\|v\\| (bits) | peak \\|a_in\\| "
            "| u wraps | v clips | a_in > 16 bit | spikes |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for h in self.layers:
            lines.append(
                f"| {h.name} | {h.peak_u} ({h.u_bits:.1f}) | {h.peak_v} ({h.v_bits:.1f}) | {h.peak_a_in} | "
                f"{h.u_wraps} | {h.v_clips} | {h.a_in_over_16bit} | {h.spikes} |"
            )
        verdict = "no wrap, clip or port overflow" if self.ok else "OVERFLOW — see the counts above"
        lines += ["", f"verdict: {verdict}"]
        return "\n".join(lines) + "\n"


def headroom(net: IntNetwork, spikes: np.ndarray) -> Headroom:
    """Run the golden model on calibration spikes and measure how close u, v, a_in come to their limits."""
    from neurocal.golden import simulate

    spikes = np.asarray(spikes, dtype=bool)
    result = simulate(net, spikes, stats=True)
    assert result.stats is not None
    layers = [
        LayerHeadroom(name=layer.name, spikes=int(result.ops["spikes"][:, i].sum()), **result.stats[i])
        for i, layer in enumerate(net.layers)
    ]
    return Headroom(events=int(spikes.shape[0]), ticks=int(spikes.shape[1]), layers=layers)


# ----------------------------------------------------------------------------------------- test networks


def lif_graph(
    weights: list[np.ndarray],
    *,
    beta: float | list[float] = 0.9,
    threshold: float | list[float] = 1.0,
    biases: list[np.ndarray] | None = None,
    readout: str = "membrane",
    dt: float = 1e-4,
) -> Any:
    """A NIR graph Affine → LIF → … as snnTorch's exporter writes it (tau = dt/(1−β), r = tau/dt).

    For tests, benchmarks and demos; trained networks come from ``neurocal.models``.
    """
    import nir

    n = len(weights)
    betas = beta if isinstance(beta, list) else [beta] * n
    thresholds = threshold if isinstance(threshold, list) else [threshold] * n
    nodes: dict[str, Any] = {"input": nir.Input(input_type=np.array([weights[0].shape[1]]))}
    edges = []
    prev = "input"
    for i, w in enumerate(weights):
        n_out = w.shape[0]
        b = biases[i] if biases is not None else np.zeros(n_out)
        tau = dt / (1.0 - np.asarray(betas[i], dtype=np.float64)) if np.all(np.asarray(betas[i]) != 1) else np.inf
        tau_v = np.broadcast_to(np.asarray(tau, dtype=np.float64), (n_out,)).copy()
        nodes[f"fc{i}"] = nir.Affine(weight=np.asarray(w, dtype=np.float64), bias=np.asarray(b, dtype=np.float64))
        nodes[f"lif{i}"] = nir.LIF(
            tau=tau_v,
            r=tau_v / dt,
            v_leak=np.zeros(n_out),
            v_threshold=np.broadcast_to(np.asarray(thresholds[i], dtype=np.float64), (n_out,)).copy(),
            v_reset=np.zeros(n_out),
        )
        edges += [(prev, f"fc{i}"), (f"fc{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["output"] = nir.Output(output_type=np.array([weights[-1].shape[0]]))
    edges.append((prev, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"neurocal": {"dt": dt, "readout": readout}})


def random_network(
    sizes: list[int], rng: np.random.Generator, *, extreme: bool = False, readout: str = "membrane"
) -> IntNetwork:
    """A random valid :class:`IntNetwork` (no quantiser): for backend bit-exactness tests.

    ``extreme`` draws du/dv at 0 and 4095, saturating weights and exponents, large biases and
    tiny thresholds so that u wraps and v clips.
    """
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        spiking = not (readout == "membrane" and i == len(sizes) - 2)
        mode = rng.choice(["mixed", "excitatory", "inhibitory"], p=[0.6, 0.25, 0.15])
        if extreme and rng.random() < 0.5:
            w = rng.choice([-256, -254, -2, 0, 2, 254], size=(n_out, n_in))  # saturating mantissas
        else:
            w = rng.integers(-256, 256, size=(n_out, n_in))
        if mode == "excitatory":
            w = np.abs(w).clip(0, 255)
        elif mode == "inhibitory":
            w = -np.abs(w).clip(0, 255)
        w = lava_dense_weights(w)

        def pick(lo: int, hi: int, edge: list[int]) -> int:
            return int(rng.choice(edge)) if extreme and rng.random() < 0.6 else int(rng.integers(lo, hi + 1))

        layers.append(
            IntLayer(
                name=f"lif{i}", synapse=f"fc{i}", kind="LIF", weights=w,
                weight_exp=pick(-3, 3, [-8, 0, 7]),
                bias_mant=rng.integers(-BIAS_MANT_MAX - 1, BIAS_MANT_MAX + 1, size=n_out) * (rng.random(n_out) < 0.3),
                bias_exp=pick(0, 3, [0, 7]),
                du=pick(0, 4095, [0, 1, 4094, 4095]),
                dv=pick(0, 4095, [0, 1, 4094, 4095]),
                vth=pick(1, 4000, [0, 1, VTH_MAX]),
                spiking=spiking,
                scale=1.0,
                weight_step=1.0,
            )
        )
    return IntNetwork(n_inputs=sizes[0], layers=layers, readout=readout, source="<random>")
