"""neurocal's LIF as an hls4ml custom layer, added through hls4ml's extension API (never a fork).

What is hls4ml's and what is neurocal's:

* hls4ml's: the model graph (``ModelGraph``), the ``Dense`` layers (``nnet::dense``, latency or resource),
  the project writer, ``build_lib.sh``/``compile()`` (g++ against hls4ml's ``ap_types``), the Vitis
  ``build_prj.tcl``.
* neurocal's: the layer class :class:`NeurocalLIF`, its config and function-call templates, the C++
  core ``nc::lif`` (``firmware/hls/nc_lif.h``) and the AER stream top ``nc::aer_event``
  (``firmware/hls/nc_aer.h``), both registered with ``register_source``, and the validation pass
  :class:`CheckExactDense` that refuses a Dense whose accumulator could wrap.

The layer takes two inputs, the Dense sum of this tick and the one-element ``first_tick`` flag, and
has two outputs: the spikes (``ap_uint<1>``, fed to the next Dense) and a probe
``[spikes, v, u]`` (``ap_int<32>``, 3·n_out) from which the host reads every layer's state.
Per-neuron ``du``, ``dv``, ``vth`` and the effective bias are hls4ml weight variables, so hls4ml
writes them into ``firmware/weights/`` like any other constant.
"""

from __future__ import annotations

from typing import Any

import hls4ml
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.attributes import Attribute, WeightAttribute
from hls4ml.model.layers import Layer
from hls4ml.model.optimizer import OptimizerPass
from hls4ml.model.types import IntegerPrecisionType

from neurocal.errors import NeurocalError
from neurocal.firmware.sources import hls_source

BACKEND = "Vitis"
HEADER = "nc_lif.h"
PROBE_BITS = 32  # the probe carries v (24-bit) and u (int32) unchanged

# (name, bits, signed) of the per-neuron parameter arrays, as the contract states them
PARAMETERS = (("du", 12, False), ("dv", 12, False), ("vth", 17, False), ("bias", 21, True))


class NeurocalLIF(Layer):
    """hls4ml IR node of one LIF layer (inputs: Dense sum, first_tick; outputs: spikes, probe)."""

    _expected_attributes = [  # noqa: RUF012 (hls4ml's own convention for layer classes)
        Attribute("n_out"),
        Attribute("weight_exp"),
        Attribute("spiking", value_type=bool),
        Attribute("a_bits"),
        Attribute("u_bits"),
        Attribute("v_sum_bits"),
        *[WeightAttribute(name) for name, _, _ in PARAMETERS],
    ]

    def initialize(self) -> None:
        n = self.get_attr("n_out")
        self.add_output_variable(
            [3 * n], out_name=self.outputs[1], var_name="layer{index}_probe", type_name="layer{index}_probe_t",
            precision=IntegerPrecisionType(PROBE_BITS, signed=True),
        )
        # hls4ml keeps one 'result_t' per layer (the last output added): keep the probe's type under its own name
        self.set_attr("probe_t", self.get_output_variable(self.outputs[1]).type)
        self.add_output_variable(
            [n], out_name=self.outputs[0], var_name="layer{index}_out", type_name="layer{index}_t",
            precision=IntegerPrecisionType(1, signed=False),
        )
        for name, bits, signed in PARAMETERS:
            self.add_weights_variable(
                name=name, var_name=f"lif_{name}{{index}}", type_name=f"lif_{name}{{index}}_t",
                precision=IntegerPrecisionType(bits, signed=signed), data=name,
            )


_CONFIG = """struct config{index} : nc::lif_config {{
    static const unsigned n_out = {n_out};
    static const int weight_exp = {weight_exp};
    static const bool spiking = {spiking};
    typedef ap_int<{a_bits}> a_t;
    typedef ap_int<{u_bits}> u_t;
    typedef ap_int<24> v_t;
    typedef ap_int<{v_sum_bits}> v_sum_t;
    typedef {du_t} du_t;
    typedef {dv_t} dv_t;
    typedef {vth_t} vth_t;
    typedef {bias_t} bias_t;
}};\n"""

_CALL = (
    "nc::lif<{input_t}, {flag_t}, {output_t}, {probe_t}, {config}>"
    "({input}, {flag}, {output}, {probe}, {du}, {dv}, {vth}, {bias});"
)


class LifConfigTemplate(LayerConfigTemplate):
    def __init__(self) -> None:
        super().__init__(NeurocalLIF)
        self.template = _CONFIG

    def format(self, node: Layer) -> str:
        params = self._default_config_params(node)
        for name, _, _ in PARAMETERS:
            params[f"{name}_t"] = node.get_weights(name).type.name
        return self.template.format(**params)


class LifFunctionTemplate(FunctionCallTemplate):
    def __init__(self) -> None:
        super().__init__(NeurocalLIF, include_header=[f"nnet_utils/{HEADER}"])
        self.template = _CALL

    def format(self, node: Layer) -> str:
        params = self._default_function_params(node)
        flag = node.get_input_variable(node.inputs[1])
        spikes = node.get_output_variable(node.outputs[0])
        probe = node.get_output_variable(node.outputs[1])
        params.update(flag_t=flag.type.name, flag=flag.name, output_t=spikes.type.name, output=spikes.name,
                      probe_t=probe.type.name, probe=probe.name)
        for name, _, _ in PARAMETERS:
            params[name] = node.get_weights(name).name
        return self.template.format(**params)


def dense_sum_bits(weights_in_out: Any) -> int:
    """Signed width that holds Σ w over any subset of inputs (the exact Dense sum), at least 2."""
    import numpy as np

    w = np.asarray(weights_in_out, dtype=np.int64)
    hi = int(np.clip(w, 0, None).sum(axis=0).max(initial=0))
    lo = int(np.clip(w, None, 0).sum(axis=0).min(initial=0))
    return max(2, max(hi.bit_length(), (-lo - 1).bit_length() if lo < 0 else 0) + 1)


class CheckExactDense(OptimizerPass):
    """Refuse a Dense feeding a :class:`NeurocalLIF` whose weights, accumulator or result could round or wrap.

    hls4ml's ``ap_int``/``ap_fixed`` default to truncate-and-wrap, so an undersized accumulator is silent;
    this pass makes it loud. It changes nothing in the graph.
    """

    def match(self, node: Layer) -> bool:
        return node.class_name == "Dense" and any(
            isinstance(n, NeurocalLIF) and n.inputs[0] in node.outputs for n in node.model.get_layers()
        )

    def transform(self, model: Any, node: Layer) -> bool:
        need = dense_sum_bits(node.get_weights("weight").data)
        types = (("accum", node.get_attr("accum_t").precision), ("result", node.get_output_variable().type.precision))
        for var, prec in types:
            if not isinstance(prec, IntegerPrecisionType) or prec.width < need or not prec.signed:
                raise NeurocalError(
                    f"hls4ml layer '{node.name}': {var} type {prec} cannot hold every sum of its weights exactly "
                    f"(needs a signed integer of {need} bits); leave the precisions neurocal sets"
                )
        weight = node.get_weights("weight")
        if not isinstance(weight.type.precision, IntegerPrecisionType) or weight.type.precision.width < 9:
            raise NeurocalError(f"hls4ml layer '{node.name}': weight type {weight.type.precision} is not ap_int<9>")
        return False


_registered = False


def register() -> None:
    """Register the layer, its templates, the C++ source and the check with hls4ml (idempotent)."""
    global _registered
    if _registered:
        return
    hls4ml.model.layers.register_layer("NeurocalLIF", NeurocalLIF)
    backend = hls4ml.backends.get_backend(BACKEND)
    backend.register_template(LifConfigTemplate)
    backend.register_template(LifFunctionTemplate)
    backend.register_source(hls_source(HEADER))
    backend.register_source(hls_source("nc_aer.h"))  # the AER stream top (neurocal_aer_top.cpp) includes it
    backend.register_pass("neurocal_check_exact_dense", CheckExactDense, flow=f"{BACKEND.lower()}:validation")
    _registered = True
