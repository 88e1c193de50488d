"""The readout networks: a feed-forward snnTorch SNN and an ANN of the same size.

Each SNN layer is a synapse (``nn.Linear``) followed by an ``snn.Leaky`` with ONE learnable β and
ONE learnable threshold (Lava's LIF takes them as scalars), reset to zero without delay. With
``reset_mechanism="zero"`` and ``reset_delay=False`` snnTorch computes, per tick (docs/design.md §2)::

    v[t] = β·v[t-1] + W·s[t] + b;   spike if v[t] > thr (strict, ATan's forward);   v[t] ← 0 after a spike

(snnTorch's ``mem_reset`` of the previous voltage is always 0 here, because the voltage was
already zeroed in the same tick and thr > 0.) Because there is no recurrence between layers, a
layer's input current for all ticks is computed in one matmul, then the neuron runs tick by tick.

SNN-Cal's float recipe (``reset="subtract"``, ``reset_delay=True``, snnTorch's defaults) is
available too: ``v[t] = β·v[t-1] + I[t] − r[t-1]·thr`` with ``r`` the detached spike of the previous
tick. It is not the deployable contract (Loihi resets to zero at once); ``TrainConfig.deployable``
says which runs export to the integer network unchanged.

Population coding (``population`` = P > 1): the readout layer has P neurons per output and the
output is their mean (mean final voltage, or mean spike count × scale + offset). A membrane
readout's population is exactly one neuron with the mean weights and bias (same β, linear,
never fires): :meth:`SNN.collapsed` folds it for export, so P only shapes training.

Readouts: ``membrane`` — the last layer's threshold is out of reach (``readout_threshold``), so
it never spikes and its final voltage is the output; ``spikes`` — the last layer spikes and its
spike count, times a per-output scale plus an offset (stored with the network), is the output.

Graphs imported from NIR may carry per-neuron β/thresholds and current-based neurons
(``CubaLIF`` → ``snn.Synaptic``); the same classes hold them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Protocol

import snntorch as snn
import torch
from snntorch import surrogate
from torch import Tensor, nn
from torch.nn import functional as F


class FakeQuant(Protocol):
    """Hook for quantisation-aware training (straight-through fake quantisation).

    ``neurocal.intnet``'s scheme plugs in here: the SNN calls ``synapse`` on each layer's float
    weight and bias and ``neuron`` on its β and threshold on every forward pass and uses what
    they return (e.g. ``w + (quantise(w) - w).detach()``). Gradients reach the float parameters.
    """

    def synapse(self, layer: int, weight: Tensor, bias: Tensor | None) -> tuple[Tensor, Tensor | None]: ...

    def neuron(self, layer: int, beta: Tensor, threshold: Tensor) -> tuple[Tensor, Tensor]: ...


def _untrack(neuron: snn.SpikingNeuron) -> None:
    # snnTorch keeps every neuron ever built in a class-level list (for init_hidden); we pass
    # state explicitly, and the list would keep modules and their last batch state alive forever.
    instances = snn.SpikingNeuron.instances
    for i in range(len(instances) - 1, -1, -1):
        if instances[i] is neuron:
            del instances[i]


class SpikingLayer(nn.Module):
    """Synapse → LIF (``snn.Leaky``) or current-based LIF (``snn.Synaptic``)."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        beta: float | Tensor = 0.9,
        threshold: float | Tensor = 1.0,
        alpha: float | Tensor | None = None,
        learn_beta: bool = True,
        learn_threshold: bool = True,
        bias: bool = True,
        surrogate_alpha: float = 2.0,
        reset: str = "zero",
        reset_delay: bool = False,
    ) -> None:
        super().__init__()
        if reset not in ("zero", "subtract"):
            raise ValueError(f"reset must be 'zero' or 'subtract', got {reset!r}")
        self.fc = nn.Linear(n_in, n_out, bias=bias)
        self.reset, self.reset_delay = reset, reset_delay
        common = {
            "beta": torch.as_tensor(beta, dtype=torch.float32).clone(),
            "threshold": torch.as_tensor(threshold, dtype=torch.float32).clone(),
            "spike_grad": surrogate.atan(alpha=surrogate_alpha),
            "learn_beta": learn_beta,
            "learn_threshold": learn_threshold,
            "reset_mechanism": reset,
            "reset_delay": reset_delay,
        }
        if alpha is None:
            self.neuron: snn.SpikingNeuron = snn.Leaky(**common)
        else:
            self.neuron = snn.Synaptic(alpha=torch.as_tensor(alpha, dtype=torch.float32).clone(), **common)
        _untrack(self.neuron)

    @property
    def current_based(self) -> bool:
        return isinstance(self.neuron, snn.Synaptic)

    @property
    def n_out(self) -> int:
        return self.fc.out_features

    def forward(
        self, x: Tensor, index: int = 0, fake_quant: FakeQuant | None = None
    ) -> tuple[Tensor, Tensor]:
        """Input spikes (T, B, n_in) → (spikes (T, B, n_out), final voltage (B, n_out))."""
        weight, bias = self.fc.weight, self.fc.bias
        if fake_quant is not None:
            weight, bias = fake_quant.synapse(index, weight, bias)
        current = F.linear(x, weight, bias)  # all ticks at once
        beta, thr = self.neuron.beta, self.neuron.threshold
        if fake_quant is not None:
            beta, thr = fake_quant.neuron(index, beta, thr)
        if not self.current_based:
            return self._leaky(current, beta, thr)
        step = _bind(self.neuron, {"beta": beta, "threshold": thr})
        mem = torch.zeros_like(current[0])
        syn = torch.zeros_like(current[0])
        spikes = []
        for t in range(current.shape[0]):
            if self.current_based:
                spk, syn, mem = step(current[t], syn, mem)
            else:
                spk, mem = step(current[t], mem)
            spikes.append(spk)
        return torch.stack(spikes), mem

    def _leaky(self, current: Tensor, beta: Tensor, thr: Tensor) -> tuple[Tensor, Tensor]:
        """``snn.Leaky.forward`` (reset to zero, no delay) over all ticks, with its bookkeeping stripped.

        snnTorch's step also computes a detached reset from the previous voltage and multiplies
        the voltage by (1 − reset); with reset_delay=False that voltage was already zeroed and
        thr > 0, so the reset is always 0 and both are no-ops. What remains is the same
        arithmetic in the same order — v = clamp(β)·v + I; s = spike_grad(v − thr); v = v − s·v —
        with a third of the autograd nodes (test_networks checks bit-equality with snn.Leaky).
        """
        beta = beta.clamp(0, 1)
        spike_grad = self.neuron.spike_grad
        v = torch.zeros_like(current[0])
        spikes = []
        if self.reset != "zero" or self.reset_delay:
            return self._leaky_snn_cal(current, beta, thr)
        for t in range(current.shape[0]):
            v = beta * v + current[t]
            s = spike_grad(v - thr)
            v = v - s * v
            spikes.append(s)
        return torch.stack(spikes), v

    def _leaky_snn_cal(self, current: Tensor, beta: Tensor, thr: Tensor) -> tuple[Tensor, Tensor]:
        """snnTorch ``Leaky`` with its other reset settings (SNN-Cal's: subtract, delayed), float only.

        snnTorch's own order of operations, so that spikes match it bit for bit: r = H(v[t-1] − thr)
        (detached); subtract: v = β·v + I − r·thr; zero: v = β·((1 − r)·v) + I; s = H(v − thr) (surrogate
        gradient); without the delay the reset also acts in the spiking tick: v −= (s − r)·(thr or v).
        """
        spike_grad = self.neuron.spike_grad
        subtract = self.reset == "subtract"
        v = torch.zeros_like(current[0])
        spikes = []
        for t in range(current.shape[0]):
            r = spike_grad(v - thr).detach()
            v = beta * v + current[t] - r * thr if subtract else beta * ((1 - r) * v) + current[t]
            s = spike_grad(v - thr)
            if not self.reset_delay:
                v = v - (s - r) * (thr if subtract else v)
            spikes.append(s)
        return torch.stack(spikes), v


def _bind(module: nn.Module, params: dict[str, Tensor]):
    def call(*args: Tensor):
        return torch.func.functional_call(module, params, args)

    return call


@dataclass
class SNNRecord:
    """Everything a backend comparison needs from one forward pass."""

    spikes: list[Tensor]  # per layer, (T, B, n)
    final_v: list[Tensor]  # per layer, (B, n)
    output: Tensor  # (B, n_outputs)


class SNN(nn.Module):
    """Feed-forward SNN: ``n_inputs`` → hidden LIF layers → readout layer."""

    def __init__(
        self,
        n_inputs: int,
        hidden: list[int],
        n_outputs: int,
        *,
        readout: str = "membrane",
        beta_init: float = 0.9,
        readout_beta_init: float = 0.99,
        threshold_init: float = 1.0,
        readout_threshold: float = 1e6,
        bias: bool = True,
        surrogate_alpha: float = 2.0,
        beta_min: float = 1 / 4096,
        threshold_min: float = 1e-3,
        population: int = 1,
        reset: str = "zero",
        reset_delay: bool = False,
    ) -> None:
        super().__init__()
        if readout not in ("membrane", "spikes"):
            raise ValueError(f"readout must be 'membrane' or 'spikes', got {readout!r}")
        if population < 1:
            raise ValueError(f"population must be >= 1, got {population}")
        self.readout = readout
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs
        self.population = population
        self.beta_min, self.threshold_min = beta_min, threshold_min
        sizes = [n_inputs, *hidden]
        neuron = {"reset": reset, "reset_delay": reset_delay}
        layers = [
            SpikingLayer(a, b, beta=beta_init, threshold=threshold_init, bias=bias, surrogate_alpha=surrogate_alpha,
                         **neuron)
            for a, b in itertools.pairwise(sizes)
        ]
        membrane = readout == "membrane"
        layers.append(
            SpikingLayer(
                sizes[-1],
                n_outputs * population,
                beta=readout_beta_init,
                threshold=readout_threshold if membrane else threshold_init,
                learn_threshold=not membrane,  # an unreachable threshold stays unreachable
                bias=bias,
                surrogate_alpha=surrogate_alpha,
                **(neuron if not membrane else {}),  # a membrane readout never fires: its reset is moot
            )
        )
        self.layers = nn.ModuleList(layers)
        # spike-count decoding (spikes readout only): output = count·scale + offset
        self.decode_scale = nn.Parameter(torch.full((n_outputs,), 0.1), requires_grad=not membrane)
        self.decode_offset = nn.Parameter(torch.zeros(n_outputs), requires_grad=not membrane)
        self.fake_quant: FakeQuant | None = None
        # True: run T + L ticks with each layer's input one tick late, as Lava's Dense and the integer
        # network do (docs/design.md §2); quantisation-aware training sets it so that what is trained is what runs.
        self.lava_delay = False

    @property
    def sizes(self) -> list[int]:
        return [self.n_inputs, *(layer.n_out for layer in self.layers)]

    def record(self, x: Tensor) -> SNNRecord:
        """Run on input spikes (B, T, n_inputs), keeping every layer's spikes and final voltage."""
        h = x.transpose(0, 1).float()  # (T, B, n)
        if self.lava_delay:
            h = F.pad(h, (0, 0, 0, 0, 0, len(self.layers)))  # T + L ticks
        spikes, final_v = [], []
        for i, layer in enumerate(self.layers):
            if self.lava_delay:  # layer i answers input tick t at t + i + 1
                h = F.pad(h[:-1], (0, 0, 0, 0, 1, 0))
            h, v = layer(h, i, self.fake_quant)
            spikes.append(h)
            final_v.append(v)
        if self.readout == "membrane":
            out = self._pool(final_v[-1])
        else:
            out = self._pool(spikes[-1].sum(0)) * self.decode_scale + self.decode_offset
        return SNNRecord(spikes=spikes, final_v=final_v, output=out)

    def _pool(self, values: Tensor) -> Tensor:
        """(B, n_outputs·P) → (B, n_outputs): mean over each output's population (neurons o·P … o·P + P − 1)."""
        if self.population == 1:
            return values
        return values.reshape(values.shape[0], self.n_outputs, self.population).mean(-1)

    @torch.no_grad()
    def collapsed(self) -> SNN:
        """The same network with one readout neuron per output (exact for a membrane readout; see module doc)."""
        if self.population == 1:
            return self
        if self.readout != "membrane":
            raise ValueError("a population-coded spike readout does not fold into one neuron per output")
        import copy

        net = copy.deepcopy(self)
        last = net.layers[-1]
        fc = nn.Linear(last.fc.in_features, self.n_outputs, bias=last.fc.bias is not None)
        fc.weight.copy_(last.fc.weight.reshape(self.n_outputs, self.population, -1).mean(1))
        if last.fc.bias is not None:
            fc.bias.copy_(last.fc.bias.reshape(self.n_outputs, self.population).mean(1))
        last.fc = fc
        net.population = 1
        return net

    def forward(self, x: Tensor) -> Tensor:
        """Input spikes (B, T, n_inputs) → outputs (B, n_outputs) in standardised units / logits."""
        return self.record(x).output

    @torch.no_grad()
    def constrain_(self) -> None:
        """Project β into [beta_min, 1] and thresholds to >= threshold_min (after each optimiser step)."""
        for layer in self.layers:
            layer.neuron.beta.clamp_(self.beta_min, 1.0)
            if isinstance(layer.neuron.threshold, nn.Parameter):
                layer.neuron.threshold.clamp_(min=self.threshold_min)
            if layer.current_based:
                layer.neuron.alpha.clamp_(0.0, 1.0)

    @torch.no_grad()
    def normalise_inputs_(self, x: Tensor) -> None:
        """Input normalisation folded into the first synapse's initial weights (nothing changes in the graph).

        Channels fire at very different rates (level 0 of a bright sensor on ~10 % of ticks, level 3
        on ~0.2 %), so with a uniform initialisation the frequent channels drown the rare ones. With
        p_c a channel's firing rate over training ticks and σ_c = √(p_c(1 − p_c)), column c of W is
        divided by σ_c / mean(σ) and the bias absorbs the mean current: W x + b becomes
        W' (x − p)/σ-like, i.e. every channel starts with the same current variance.
        """
        first = self.layers[0].fc
        rate = x.float().mean(dim=(0, 1))
        sigma = torch.sqrt(rate * (1 - rate)).clamp(min=1e-3)
        first.weight.mul_((sigma.mean() / sigma)[None, :])
        if first.bias is not None:
            first.bias.sub_(first.weight @ rate)

    @torch.no_grad()
    def calibrate_thresholds_(self, x: Tensor, rate: float = 0.1) -> list[float]:
        """Data-driven initialisation: hidden thresholds, then the scale of a membrane readout.

        Layer by layer, sets the threshold to the (1 − rate) quantile of the voltage the layer
        would reach without spiking, so that roughly ``rate`` of (tick, neuron) pairs can fire
        at the start: too high a threshold leaves a silent network that no gradient revives.
        """
        h = x.transpose(0, 1).float()
        chosen = []
        n_hidden = len(self.layers) - (1 if self.readout == "membrane" else 0)
        for layer in self.layers[:n_hidden]:
            thr = layer.neuron.threshold
            current = layer.fc(h)
            v = torch.zeros_like(current[0])
            vs = []
            for t in range(current.shape[0]):  # free (no reset) voltage trajectory
                v = layer.neuron.beta.clamp(0, 1) * v + current[t]
                vs.append(v)
            sample = torch.stack(vs).flatten()
            if sample.numel() > 1_000_000:
                sample = sample[:: sample.numel() // 1_000_000 + 1]
            value = max(float(torch.quantile(sample, 1.0 - rate)), self.threshold_min)
            thr.fill_(value)
            chosen.append(value)
            h, _ = layer(h)
        if self.readout == "membrane":
            # scale the readout so its initial final voltage has unit spread, like the standardised targets
            readout = self.layers[-1]
            if readout.fc.bias is not None:
                readout.fc.bias.zero_()
            _, v = readout(h)
            spread = v.std(0).clamp(min=1e-6)
            readout.fc.weight.div_(spread[:, None])
            if readout.fc.bias is not None:  # a constant bias b adds b·Σβ^k to the final voltage
                beta = readout.neuron.beta.clamp(0, 1).expand(v.shape[1])
                gain = torch.stack([(beta**k) for k in range(x.shape[1])]).sum(0)
                readout.fc.bias.copy_(-(v / spread).mean(0) / gain)
        return chosen

    def summary(self) -> str:
        lines = [f"SNN  {'-'.join(map(str, self.sizes))}  readout={self.readout}"]
        for i, layer in enumerate(self.layers):
            n = layer.neuron
            kind = "CubaLIF" if layer.current_based else "LIF"
            beta = n.beta.detach().flatten()
            thr = n.threshold.detach().flatten()

            def fmt(t: Tensor) -> str:
                return f"{t.item():.4g}" if t.numel() == 1 else f"[{t.min().item():.4g}..{t.max().item():.4g}]"

            lines.append(
                f"  layer {i}: {layer.fc.in_features:>4} → {layer.n_out:<4} {kind:7} β={fmt(beta)} thr={fmt(thr)}"
                f"{' bias' if layer.fc.bias is not None else ''}"
            )
        n_params = sum(p.numel() for p in self.parameters() if p.requires_grad)
        lines.append(f"  trainable parameters: {n_params}")
        return "\n".join(lines)


class ANN(nn.Module):
    """Baseline MLP of the same layer sizes on per-channel spike rates (standardised inside).

    ``input_kind="photon_sums"``: SNN-Cal's ANN baseline, on the photons per sensor summed over the
    window (B, sensors), log-compressed (log1p: the sums span ~10²…10⁷) and batch-normalised.
    """

    def __init__(self, n_inputs: int, hidden: list[int], n_outputs: int, input_kind: str = "spike_rates") -> None:
        super().__init__()
        if input_kind not in ("spike_rates", "photon_sums"):
            raise ValueError(f"input_kind must be 'spike_rates' or 'photon_sums', got {input_kind!r}")
        self.input_kind = input_kind
        sizes = [n_inputs, *hidden]
        mods: list[nn.Module] = [nn.BatchNorm1d(n_inputs)] if input_kind == "photon_sums" else []
        for a, b in itertools.pairwise(sizes):
            mods += [nn.Linear(a, b), nn.ReLU()]
        mods.append(nn.Linear(sizes[-1], n_outputs))
        self.net = nn.Sequential(*mods)
        self.register_buffer("feature_mean", torch.zeros(n_inputs))
        self.register_buffer("feature_std", torch.ones(n_inputs))

    def features(self, x: Tensor) -> Tensor:
        """Spike rate per channel over the window, (B, T, n) → (B, n); or log1p of photon sums (B, n)."""
        if self.input_kind == "photon_sums":
            return torch.log1p(x.float())
        return x.float().mean(dim=1)

    def fit_features_(self, x: Tensor) -> None:
        f = self.features(x)
        self.feature_mean.copy_(f.mean(0))
        self.feature_std.copy_(torch.where(f.std(0) > 0, f.std(0), torch.ones_like(f[0])))

    def forward(self, x: Tensor) -> Tensor:
        return self.net((self.features(x) - self.feature_mean) / self.feature_std)
