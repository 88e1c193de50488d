"""brevitas weight quantisers on the integer contract's grid (docs/design.md §2), configured from :func:`quant_grid`.

One grid definition: :class:`neurocal.quantize.LayerGrid` (λ, weight exponent ``e``, sign class).
This module hands it to brevitas as a per-tensor, 8-bit, constant-scale integer weight quantiser,
so that a brevitas ``QuantLinear`` computes exactly ``LayerGrid.fake_quantize``::

    mixed-sign layer   q = clamp(round(W / s), −128, 127)   int8,  s = 2^(e+1) / λ   (Lava weight 2q: even values)
    excitatory layer   q = clamp(round(W / s), 0, 255)      uint8, s = 2^e / λ
    inhibitory layer   q = −clamp(round(−W / s), 0, 255)    uint8 magnitudes, sign −1 per layer, s = 2^e / λ
    forward weight     q · s

brevitas' ``IntQuant`` divides, rounds half to even (``torch.round``, as ``np.round``), clamps and
multiplies by the scale in this order, in float64 here, so its output equals the numpy
``fake_quantize`` bit for bit (``tests/models/test_brevitas.py``). The integer network's weight is
``q · 2^(e+1)`` (mixed) or ``q · 2^e`` in threshold units: ``brevitas int × 2^(e+shift) == IntLayer.weights
× 2^weight_exp`` exactly, and ``brevitas int × scale == mantissa × IntLayer.weight_step`` (the contract's
float weight, ``weight_step = 2^(e+shift)/λ``).

What brevitas expresses and what stays neurocal's:

* brevitas: the weight quantiser — bit width 8, signedness, per-tensor constant scale
  (``ScalingImplType.CONST`` with an integer scaling of 1, so the scale is the grid step itself),
  round-half-even, clamp. The integer weights and their scale come from ``QuantLinear.quant_weight()``.
* neurocal (``quant_grid``): *choosing* the grid. λ = ``vth_target / max θ`` (lowered by the calibration
  headroom rule) or, for a membrane readout, from the calibration peak |v|; the exponent is the smallest
  that fits 8 bits. brevitas' statistics-based scalings (max, MSE, percentile) pick other scales, and
  λ is not a power of two, so the float-domain scale ``2^(e+shift)/λ`` cannot use brevitas'
  ``POWER_OF_TWO`` restriction: it is a constant, recomputed by ``IntGridQuantizer.refresh`` every k steps.
  In the integer domain (the QONNX export, :mod:`neurocal.models.qonnx_export`) λ is gone and the
  scale is the pure power of two ``2^(e+shift)`` (there an inhibitory layer is a signed 9-bit narrow
  ``Quant``: QONNX has no negative-only type and hls4ml no ``Neg`` node).
* neurocal: an inhibitory (all-negative) layer's 8-bit *unsigned* magnitudes with a negative sign —
  brevitas' unsigned range is [0, 255], so brevitas quantises ``−W`` and the sign is applied outside.
* neurocal: the bias rule (13-bit mantissa with the smallest shared exponent, in v units ``64 λ b/(1−α)``),
  β → ``dv`` (12-bit decay), thresholds ``round(λ θ)``, the integer voltage arithmetic (truncating decays,
  24-bit clip, Lava's u wrap). None is a fixed-bit-width linear quantiser of one tensor with a
  constant scale; they stay in :class:`~neurocal.models.qat.IntGridQuantizer`.
* the straight-through gradient is :func:`neurocal.models.qat._ste` (gradient exactly 1 on the float32
  parameter); brevitas' own STE (``RoundSte``) would give ``(1/s)·s``, which is 1 only up to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from brevitas.core.restrict_val import RestrictValueType
from brevitas.core.scaling import ScalingImplType, ScalingPerOutputType
from brevitas.core.utils import SingleArgStatelessBuffer
from brevitas.inject import ExtendedInjector
from brevitas.nn import QuantLinear
from brevitas.quant.base import IntQuant, UintQuant
from brevitas.quant.solver.weight import WeightQuantSolver
from torch import Tensor

from neurocal.quantize import LayerGrid

BIT_WIDTH = 8


def grid_weight_quant(grid: LayerGrid) -> type[ExtendedInjector]:
    """The brevitas weight quantiser (an injector class for ``QuantLinear(weight_quant=...)``) of ``grid``.

    Signed int8 for a mixed-sign layer, uint8 otherwise (an inhibitory layer quantises −W), per tensor,
    constant scale ``grid.step`` with an integer scaling of 1 (brevitas' default divides a constant
    "threshold" by 2^(b−1) or 2^b − 1; 1 keeps the scale exactly the step).
    """
    base = IntQuant if grid.mixed else UintQuant
    return type(
        "ContractWeightQuant",
        (base, WeightQuantSolver),
        {
            "bit_width": BIT_WIDTH,
            "scaling_impl_type": ScalingImplType.CONST,
            "restrict_scaling_type": RestrictValueType.FP,
            "scaling_per_output_type": ScalingPerOutputType.TENSOR,
            "scaling_init": grid.step,
            "int_scaling_impl": SingleArgStatelessBuffer(1.0),
        },
    )


def _sign(grid: LayerGrid) -> float:
    """−1 for an inhibitory layer (mantissas in [−255, 0]), +1 otherwise."""
    return -1.0 if not grid.mixed and grid.q_max == 0 else 1.0


@dataclass
class BrevitasWeightQuantizer:
    """One layer's brevitas ``QuantLinear`` on the contract grid; ``weight`` is the layer's float weight.

    The ``QuantLinear`` holds a float64 copy of the weight (``load``) so that ``quant_weight()``,
    ``int_weight()`` and brevitas' exporters see the quantised layer; :meth:`fake_quantize` quantises
    any weight tensor (the live training parameter) with the same quantiser.
    """

    grid: LayerGrid
    linear: QuantLinear

    @classmethod
    def build(cls, grid: LayerGrid, weight: Tensor) -> BrevitasWeightQuantizer:
        n_out, n_in = weight.shape
        linear = QuantLinear(n_in, n_out, bias=False, weight_quant=grid_weight_quant(grid), dtype=torch.float64)
        quantizer = cls(grid=grid, linear=linear)
        quantizer.load(weight)
        return quantizer

    @property
    def sign(self) -> float:
        return _sign(self.grid)

    @torch.no_grad()
    def load(self, weight: Tensor) -> None:
        """Copy ``weight`` (sign-folded for an inhibitory layer) into the QuantLinear."""
        self.linear.weight.copy_(self.sign * weight.detach().double())

    @torch.no_grad()
    def fake_quantize(self, weight: Tensor) -> Tensor:
        """``LayerGrid.fake_quantize(weight)`` computed by brevitas, float64, detached."""
        return self.sign * self.linear.weight_quant(self.sign * weight.detach().double()).value

    @torch.no_grad()
    def int_weight(self) -> np.ndarray:
        """The 8-bit mantissas q of the loaded weight (signed; negative in an inhibitory layer), int64."""
        return (self.sign * self.linear.quant_weight().int().to(torch.int64)).numpy().astype(np.int64)

    @torch.no_grad()
    def scale(self) -> float:
        """brevitas' scale of the loaded weight: ``2^(e+shift)/λ`` = ``grid.step``."""
        return float(self.linear.quant_weight().scale)

    @property
    def pow2_exponent(self) -> int:
        """``e + shift``: the integer-domain scale is ``2^(e+shift)`` (shift 1 for mixed-sign layers)."""
        return self.grid.weight_exp + (1 if self.grid.mixed else 0)

    @property
    def bit_width(self) -> int:
        return int(self.linear.quant_weight().bit_width)

    @property
    def signed(self) -> bool:
        return bool(self.linear.quant_weight().signed)
