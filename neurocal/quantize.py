"""The quantiser: a float NIR :class:`~neurocal.nirgraph.Chain` → an :class:`~neurocal.intnet.IntNetwork`.

Per layer the float neuron (see :mod:`neurocal.nirgraph`) ::

    i[t] = α·i[t−1] + W·s[t−1] + b          v[t] = β·v[t−1] + i[t]          spike when v > θ, then v = 0

becomes the integer LIF of :mod:`neurocal.intnet` with, per neuron,
``du = 4095 − round(4096·α)`` (``du = 4095``: no current memory, snnTorch ``Leaky``),
``dv = round(4096·(1 − β))`` and ``vth = round(λ·θ)``; ``α``, ``β``, ``θ`` may differ per neuron
(NIR graphs written by Norse, Rockpool, Sinabs or snnTorch's exporter carry per-neuron τ and
threshold). The float voltage is ``v_f ≈ v / (64 λ)`` and the weights ``w·2^weight_exp ≈ λ·W``.

Scaling: a spiking layer gets ``λ = vth_target / max(θ)`` (so every neuron's ``vth ≤ vth_target``,
2^11 by default) unless the calibration events need a smaller λ to keep the synaptic input inside
¾ of the 16-bit input port and |v| inside ¾ of 24 bits (``headroom_fill``). The membrane readout
layer gets the largest λ that keeps its calibration peak ``|v|`` at 2^21 (4× below the 24-bit
limit), its weights in 8 bits and its bias in 13 bits. :func:`quant_grid` exposes λ and the weight
step so that quantisation-aware training fakes exactly this quantiser.

Approximation, stated, never silent: NIR's ``CubaLIF`` adds the Affine bias to the *current*
(``i ← α·i + W·s + b``); Lava's LIF has no current bias and adds its bias to ``v`` every tick, so
the integer network uses ``b/(1 − α)`` on ``v`` — equal in the steady state, not during the first
ticks of an event (the bias's contribution ramps as ``1 − α^t``). :func:`quantize` measures what
that changes on the calibration events (:func:`bias_mapping_effect`) and records it in
``IntNetwork.calibration["approximations"]``. For ``LIF``/``IF`` layers (α = 0) the mapping is exact.

``QuantConfig.max_groups`` clusters each layer's (α, β, θ) to at most K distinct parameter sets
(fewer Lava processes, smaller hardware parameter memories); :func:`float_int_agreement` measures
what that costs against the float network.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from neurocal.errors import NeurocalError
from neurocal.intnet import (
    BIAS_EXP_MAX,
    BIAS_MANT_MAX,
    DECAY_UNITY,
    DEFAULT_FRONTEND,
    INPUT_PORT,
    V_MAX,
    VTH_MAX,
    WEIGHT_EXP_MAX,
    WEIGHT_EXP_MIN,
    IntLayer,
    IntNetwork,
)
from neurocal.nirgraph import Chain, ChainLayer


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
    max_groups: int | None = None  # cluster each layer's (α, β, θ) to at most this many parameter sets

    def __post_init__(self) -> None:
        if not 1 <= self.vth_target <= VTH_MAX:
            raise NeurocalError(f"vth_target {self.vth_target} is outside 1..{VTH_MAX} (17-bit threshold)")
        if not 1 <= self.readout_peak <= V_MAX:
            raise NeurocalError(f"readout_peak {self.readout_peak} is outside 1..{V_MAX}")
        if not 0 < self.headroom_fill <= 1:
            raise NeurocalError(f"headroom_fill {self.headroom_fill} is outside (0, 1]")
        if self.max_groups is not None and self.max_groups < 1:
            raise NeurocalError(f"max_groups {self.max_groups} must be ≥ 1")


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

    def threshold(self, theta: np.ndarray) -> np.ndarray:
        """Integer thresholds of neurons with float thresholds θ: round(λ·θ), at least 1."""
        return np.clip(np.round(self.scale * np.asarray(theta, dtype=np.float64)), 1, VTH_MAX).astype(np.int64)

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


# ----------------------------------------------------------------------------------------- float reference


def simulate_float(
    chain: Chain, spikes: np.ndarray, *, delay: bool = True, bias: str = "current"
) -> list[dict[str, np.ndarray]]:
    """Float simulation of ``chain`` on boolean spikes (events, ticks, n_in), per-neuron α, β, θ.

    ``bias="current"`` follows NIR (the Affine bias enters the current, ``i ← α·i + W·s + b``);
    ``bias="voltage"`` is the integer network's mapping (``b/(1 − α)`` added to ``v`` each tick), which
    Lava's ``floating_pt`` LIF also runs; for α = 0 the two are the same. With ``delay`` the layers are
    staggered like the integer network (T + L ticks). The membrane readout layer never fires.
    Returns per layer ``spikes``, ``v_final``, ``v_peak`` (events, n) and ``drive_peak`` (events, n):
    the largest |W·s| of one tick, which becomes the integer synaptic input.
    """
    if bias not in ("current", "voltage"):
        raise ValueError(f"bias must be 'current' or 'voltage', got {bias!r}")
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
        alpha, beta, theta = layer.alpha, layer.beta, layer.threshold
        b_cur, b_v = (layer.bias, 0.0) if bias == "current" else (0.0, layer.bias / (1.0 - alpha))
        cur = np.zeros((n_ev, layer.n_out))
        v = np.zeros((n_ev, layer.n_out))
        peak = np.zeros((n_ev, layer.n_out))
        s_out = np.zeros((n_ev, total, layer.n_out), dtype=bool)
        for t in range(total):
            cur = alpha * cur + drive[:, t] + b_cur
            v = beta * v + cur + b_v
            np.maximum(peak, np.abs(v), out=peak)
            if spiking:
                fired = v > theta
                s_out[:, t] = fired
                v[fired] = 0.0
        out.append({"spikes": s_out, "v_final": v, "v_peak": peak, "drive_peak": drive_peak})
        pre = s_out.astype(np.float64)
    return out


# ----------------------------------------------------------------------------------------- quantiser


@dataclass(frozen=True)
class LayerFloats:
    """Per-neuron float parameters of one layer, checked: α ∈ [0, 1), β ∈ (0, 1], θ > 0 if spiking."""

    alpha: np.ndarray
    beta: np.ndarray
    theta: np.ndarray
    spiking: bool


def layer_floats(chain: Chain, i: int) -> LayerFloats:
    """The checked (α, β, θ, spiking) of layer ``i``; errors name the node and the NIR field."""
    layer = chain.layers[i]
    spiking = not (chain.readout == "membrane" and i == len(chain.layers) - 1)
    where = f"{chain.source}: node '{layer.neuron_name}' ({layer.kind})"
    tau_field = {"LIF": "tau", "CubaLIF": "tau_mem", "IF": "r"}.get(layer.kind, "tau")
    beta, alpha, theta = layer.beta, layer.alpha, layer.threshold
    bad = np.flatnonzero(~((beta > 0.0) & (beta <= 1.0)))
    if bad.size:
        raise NeurocalError(
            f"{where}: field '{tau_field}' gives β = 1 − dt/tau = {beta[bad[0]]:.6g} for neuron {bad[0]}, outside "
            f"(0, 1]; tau must be ≥ dt = {chain.dt:g} (snnTorch: 0 < beta ≤ 1)"
        )
    bad = np.flatnonzero(~((alpha >= 0.0) & (alpha < 1.0)))
    if bad.size:
        raise NeurocalError(
            f"{where}: field 'tau_syn' gives α = {alpha[bad[0]]:.6g} for neuron {bad[0]}, outside [0, 1)"
        )
    bad = np.flatnonzero(theta <= 0)
    if spiking and bad.size:
        raise NeurocalError(
            f"{where}: field 'v_threshold' is {theta[bad[0]]:g} for neuron {bad[0]}; a spiking layer needs "
            f"thresholds > 0"
        )
    return LayerFloats(alpha=alpha, beta=beta, theta=theta, spiking=spiking)


def cluster_parameters(chain: Chain, max_groups: int) -> Chain:
    """A copy of ``chain`` whose every layer holds at most ``max_groups`` distinct (α, β, θ).

    Deterministic k-means (scipy ``kmeans2``, fixed seed) on the standardised per-neuron parameters;
    each neuron takes its cluster's mean α, β, θ. Weights and biases are unchanged.
    """
    from scipy.cluster.vq import kmeans2

    layers = []
    for layer in chain.layers:
        params = np.stack([layer.alpha, layer.beta, layer.threshold], axis=1)
        distinct = np.unique(params, axis=0)
        if len(distinct) > max_groups:
            spread = params.std(axis=0)
            spread[spread == 0] = 1.0
            _, labels = kmeans2(params / spread, max_groups, seed=0, minit="++", iter=50)
            means = np.stack([params[labels == g].mean(axis=0) if np.any(labels == g) else params[0]
                              for g in range(max_groups)])
            params = means[labels]
        layers.append(ChainLayer(
            synapse_name=layer.synapse_name, neuron_name=layer.neuron_name, kind=layer.kind, weight=layer.weight,
            bias=layer.bias, alpha=params[:, 0].copy(), beta=params[:, 1].copy(), threshold=params[:, 2].copy(),
        ))
    return Chain(n_inputs=chain.n_inputs, layers=layers, dt=chain.dt, readout=chain.readout,
                 metadata=dict(chain.metadata), source=chain.source)


def quant_grid(
    chain: Chain, calibration: np.ndarray | None = None, config: QuantConfig | None = None
) -> list[LayerGrid]:
    """Per-layer quantisation grid (λ, weight exponent, mantissa range) of ``chain``.

    ``calibration`` (bool spikes (events, ticks, n_in)) sets the membrane readout's λ from its
    float peak |v|, and lowers a spiking layer's λ below ``vth_target/max θ`` where the calibration's
    peak synaptic input or |v| would otherwise leave less than ``1 − headroom_fill`` of the 16-bit
    input port or the 24-bit voltage; without it every layer uses the threshold rule.
    """
    config = config or QuantConfig()
    floats = [layer_floats(chain, i) for i in range(len(chain.layers))]
    sim = simulate_float(chain, calibration, bias="voltage") if calibration is not None else None
    grids = []
    for i, layer in enumerate(chain.layers):
        f = floats[i]
        where = f"{chain.source}: node '{layer.synapse_name}'"
        if f.spiking:
            theta_max, theta_min = float(f.theta.max()), float(f.theta.min())
            scale = config.vth_target / theta_max
            if sim is not None:
                scale = min(scale, _headroom_scale(sim[i], config))
            if scale * theta_min < config.min_vth:
                drive = float(sim[i]["drive_peak"].max(initial=0.0)) if sim is not None else 0.0
                raise NeurocalError(
                    f"{where}: field 'weight': the smallest threshold {theta_min:.4g} would keep only "
                    f"{scale * theta_min:.1f} integer steps (< {config.min_vth}) — thresholds spread "
                    f"{theta_max / theta_min:.3g}× in the layer, one tick's calibration input peaks at "
                    f"{drive:.4g}: retrain with smaller weights or less spread thresholds, or lower --min-vth"
                )
        else:
            peak = float(sim[i]["v_peak"].max(initial=0.0)) if sim is not None else None
            scale = _readout_scale(layer, f, peak, config)
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


def _readout_scale(layer: ChainLayer, f: LayerFloats, peak: float | None, config: QuantConfig) -> float:
    w = np.abs(layer.weight)
    limits = []
    if peak and peak > 0:
        limits.append(config.readout_peak / (64.0 * peak))
    elif float(f.theta.max()) > 0:
        limits.append(config.vth_target / float(f.theta.max()))
    if w.max(initial=0.0) > 0:  # largest λ whose weights fit with the largest exponent (mixed: 127 · 2^(e+1))
        limits.append(127.0 * 2.0 ** (config.weight_exp_max + 1) / float(w.max()))
    bias = (np.abs(layer.bias) / (1.0 - f.alpha)).max(initial=0.0)
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


def quantize(
    chain: Chain,
    calibration: np.ndarray | None = None,
    config: QuantConfig | None = None,
    frontend: dict[str, Any] | None = None,
) -> IntNetwork:
    """Float chain (+ calibration spikes (events, ticks, n_in)) → :class:`IntNetwork`.

    ``frontend`` is the settings dict of the front end that makes the network's input
    (``FrontEnd.to_dict()`` in :mod:`neurocal.sim.frontend`); it is stored with the network and
    covered by its hash. Default: the ideal 4-threshold encoder of docs/design.md §3.

    Errors (:class:`NeurocalError`, naming the node and the field): β outside (0, 1], α outside [0, 1),
    threshold ≤ 0, thresholds too spread for the integer resolution, weights or bias that overflow
    after scaling. With ``config.max_groups`` the per-neuron parameters are clustered first.
    """
    config = config or QuantConfig()
    source = chain
    if config.max_groups is not None:
        chain = cluster_parameters(chain, config.max_groups)
    grids = quant_grid(chain, calibration, config)
    layers = []
    for i, (layer, grid) in enumerate(zip(chain.layers, grids, strict=True)):
        f = layer_floats(chain, i)
        q = grid.mantissa(layer.weight)
        bias_mant, bias_exp = quantize_bias(
            64.0 * grid.scale * layer.bias / (1.0 - f.alpha), f"{chain.source}: node '{layer.synapse_name}'"
        )
        layers.append(
            IntLayer(
                name=layer.neuron_name,
                synapse=layer.synapse_name,
                kind=layer.kind,
                weights=q * (2 if grid.mixed else 1),
                weight_exp=grid.weight_exp,
                bias_mant=bias_mant,
                bias_exp=bias_exp,
                du=np.clip(DECAY_UNITY - 1 - np.round(DECAY_UNITY * f.alpha), 0, DECAY_UNITY - 1),
                dv=np.clip(np.round(DECAY_UNITY * (1.0 - f.beta)), 0, DECAY_UNITY - 1),
                vth=grid.threshold(f.theta) if f.spiking else np.zeros(layer.n_out, dtype=np.int64),
                spiking=f.spiking,
                scale=grid.scale,
                weight_step=grid.step,
            )
        )
    net = IntNetwork(
        n_inputs=chain.n_inputs,
        layers=layers,
        readout=chain.readout,
        dt=chain.dt,
        metadata=dict(chain.metadata),
        source=chain.source,
        config=asdict(config),
        frontend=dict(frontend) if frontend is not None else dict(DEFAULT_FRONTEND),
    )
    if calibration is not None:
        approximations = bias_mapping_effect(chain, calibration)
        if approximations:
            net.calibration["approximations"] = approximations
        if config.max_groups is not None:
            net.calibration["clustering"] = {
                "max_groups": config.max_groups,
                "clustered": float_int_agreement(source, net, calibration),
            }
    return net


# ----------------------------------------------------------------------------------------- agreement


def spike_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard overlap |A ∩ B| / |A ∪ B| of two spike sets (1.0 when both are empty).

    Unlike the fraction of equal (event, tick, neuron) cells, it cannot be near 1 for a network that
    never spikes while the other does.
    """
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    union = int(np.count_nonzero(a | b))
    return 1.0 if union == 0 else int(np.count_nonzero(a & b)) / union


def float_int_agreement(chain: Chain, net: IntNetwork, spikes: np.ndarray) -> dict[str, Any]:
    """How closely the integer network follows the float chain (NIR semantics) on ``spikes``.

    Per spiking layer the spike-set overlap and both spike counts; for the readout layer the mean
    |v_int − v_float| relative to the float range and their correlation.
    """
    from neurocal.golden import simulate

    fl = simulate_float(chain, spikes)
    gi = simulate(net, spikes)
    layers = []
    for i, layer in enumerate(net.layers):
        entry: dict[str, Any] = {"layer": layer.name}
        if layer.spiking:
            entry |= {"spike_overlap": round(spike_overlap(fl[i]["spikes"], gi.spikes[i]), 4),
                      "float_spikes": int(fl[i]["spikes"].sum()), "int_spikes": int(gi.spikes[i].sum())}
        else:
            v_int, v_fl = net.decode_voltage(gi.v_final[i], i), fl[i]["v_final"]
            span = float(np.abs(v_fl).max(initial=0.0)) or 1.0
            corr = float(np.corrcoef(v_int.ravel(), v_fl.ravel())[0, 1]) if v_fl.size > 1 and v_fl.std() > 0 else 1.0
            entry |= {"readout_mean_abs_error": round(float(np.abs(v_int - v_fl).mean()) / span, 5),
                      "readout_correlation": round(corr, 5)}
        layers.append(entry)
    return {"events": int(spikes.shape[0]), "layers": layers}


def bias_mapping_effect(chain: Chain, spikes: np.ndarray) -> list[dict[str, Any]]:
    """What mapping a CubaLIF current bias to ``b/(1 − α)`` on ``v`` changes, measured in float on ``spikes``.

    One entry per CubaLIF layer with a non-zero bias and α > 0: the spike-set overlap (spiking layers)
    or the largest readout difference relative to the readout range, NIR semantics vs the mapping.
    """
    affected = [i for i, layer in enumerate(chain.layers)
                if layer.kind == "CubaLIF" and np.any(layer.bias != 0) and np.any(layer.alpha > 0)]
    if not affected:
        return []
    nir_sem = simulate_float(chain, spikes, bias="current")
    mapped = simulate_float(chain, spikes, bias="voltage")
    out = []
    for i in affected:
        layer = chain.layers[i]
        entry: dict[str, Any] = {
            "node": layer.neuron_name,
            "what": "CubaLIF bias enters the current in NIR; the integer LIF adds b/(1−α) to v (exact in the "
                    "steady state only)",
        }
        spiking = not (chain.readout == "membrane" and i == len(chain.layers) - 1)
        if spiking:
            entry["spike_overlap"] = round(spike_overlap(nir_sem[i]["spikes"], mapped[i]["spikes"]), 4)
        else:
            span = float(np.abs(nir_sem[i]["v_final"]).max(initial=0.0)) or 1.0
            entry["readout_max_rel_diff"] = round(
                float(np.abs(nir_sem[i]["v_final"] - mapped[i]["v_final"]).max()) / span, 5)
        out.append(entry)
    return out
