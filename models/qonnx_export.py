"""QONNX export of the integer network's synaptic layers, for FINN and hls4ml users.

What a QONNX model can hold of the integer contract (docs/design.md §2) is the Dense part of every layer:
per layer ``l`` one sub-graph ::

    spikes_l (1, n_in) ───────────────────────────────────────────┐
    W_l ─► Quant(scale 2^k, zero point 0, 8 bits, round) ─► MatMul ─► dense_sum_l (1, n_out) = (Σ w) · 2^weight_exp

* ``W_l`` holds the contract's weights as exact float32 values ``q · 2^k``: ``q`` the signed 8-bit
  mantissa of a mixed-sign layer with ``k = weight_exp + 1`` (Lava's even weights ``2q``), or the
  8-bit unsigned value of an excitatory layer with ``k = weight_exp``. An inhibitory layer's weights
  are 8-bit magnitudes with a minus sign, ``[−255, 0] · 2^k``: QONNX has no negative-only integer type
  and hls4ml 1.3.0 has no ``Neg`` node, so its ``Quant`` is *signed 9-bit narrow* ([−255, 255]), the
  smallest standard type that holds them. The ``Quant`` node states the format and reproduces the values.
* ``MatMul`` of a 0/1 spike row with those weights is ``(Σ w) · 2^weight_exp`` exactly: every term is a
  multiple of ``2^min(k, 0)`` and the sums stay below 2^24 of those units (checked at export), so
  float32 adds them without rounding. The integer network's synaptic input ``a`` (golden
  ``synaptic_input``) is that sum, floored when ``weight_exp < 0`` (``>>``) and held in int32: a network
  whose sum could wrap int32 (``static_widths``) is refused. The floor stays with the neuron (hls4ml
  1.3.0 reads no ``Floor`` node), as in neurocal's HLS core, whose LIF applies the exponent to hls4ml's
  Dense sum.
* Not expressible in QONNX, so not in the graph: the LIF dynamics (the floor and ``<< 6`` of the input,
  12-bit decays ``du``/``dv`` truncated toward zero, Lava's single-correction 24-bit current wrap, the
  ±(2^23 − 1) voltage clip, the threshold compare and reset, the bias ``bias_mant << bias_exp``), the
  one-tick delay between layers and the event structure. Layer ``l``'s spikes feed layer ``l + 1``'s
  ``spikes`` input one tick later. The model's ``doc_string`` says so, and its ``metadata_props`` carry
  every neuron parameter (``neurocal.layers``, JSON) and the content hash of the integer network.

hls4ml 1.3.0 converts the exported model (``convert_from_onnx_model`` after qonnx' cleanup) and its
C-simulation gives the same sums (``tests/models/test_qonnx.py``). The weights are the integer
network's (``intnet.json``), which QAT trains with brevitas quantisers on the same grid
(:mod:`neurocal.models.brevitas_quant`); the graph is built with ``onnx.helper`` rather than brevitas'
``export_qonnx``, which would need a torch module per layer and would export the float domain (scale
``2^k/λ``, not a power of two) instead of the integer one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from neurocal.errors import NeurocalError
from neurocal.intnet import IntLayer, IntNetwork, sign_mode

QONNX_DOMAIN = "qonnx.custom_op.general"
SCHEMA = "neurocal.qonnx/1"
OPSET = 13  # what FINN and hls4ml's QONNX front ends read
FLOAT32_EXACT = 1 << 24
NOT_EXPRESSED = (
    "LIF dynamics (the floor and << 6 of the synaptic input, du/dv decays truncated toward zero, Lava's 24-bit "
    "current wrap, the voltage clip, threshold and reset, the bias), the one-tick delay between layers and the "
    "event structure are not expressible in QONNX and are not in this graph; metadata_props 'neurocal.layers' "
    "carries them"
)


def layer_weights(layer: IntLayer) -> tuple[np.ndarray, int, int, bool, bool]:
    """(integers q (n_in, n_out), power-of-two exponent k, bit width, signed, narrow) of one layer's Quant.

    ``w · 2^weight_exp == q · 2^k`` for every weight, exactly (mixed: ``w = 2q``, ``k = weight_exp + 1``).
    """
    w = np.asarray(layer.weights, dtype=np.int64)
    mode = sign_mode(w)
    if mode == "mixed":
        return (w >> 1).T, layer.weight_exp + 1, 8, True, False
    if mode == "inhibitory":  # 8-bit magnitudes, negative: signed 9-bit narrow is the smallest standard type
        return w.T, layer.weight_exp, 9, True, True
    return w.T, layer.weight_exp, 8, False, False


def _check_exact(net: IntNetwork) -> None:
    for i, (layer, widths) in enumerate(zip(net.layers, net.static_widths(), strict=True)):
        q = layer_weights(layer)[0]
        row_bound = int(np.abs(q).sum(axis=0).max(initial=0))
        where = f"{net.source}: layer {i} ('{layer.name}')"
        if row_bound >= FLOAT32_EXACT:
            raise NeurocalError(
                f"{where}: field 'weights': a synaptic sum can reach {row_bound} weight steps, beyond float32's "
                f"exact integers (2^24); the QONNX MatMul would round it"
            )
        if widths.a_max >= 1 << 31:
            raise NeurocalError(
                f"{where}: field 'weights': the synaptic sum can wrap int32 (|a| ≤ {widths.a_max}); QONNX has no "
                f"int32 wrap, the export would differ from the integer network"
            )


def _layer_metadata(net: IntNetwork) -> list[dict[str, Any]]:
    out = []
    for i, layer in enumerate(net.layers):
        _, k, bits, signed, narrow = layer_weights(layer)
        out.append({
            "layer": i, "name": layer.name, "synapse": layer.synapse, "kind": layer.kind,
            "input": f"spikes_{i}", "output": f"dense_sum_{i}",
            "sign_mode": layer.sign_mode, "weight_exp": int(layer.weight_exp), "quant_scale": 2.0**k,
            "quant_bit_width": bits, "quant_signed": signed, "quant_narrow": narrow,
            "synaptic_input": "a = int32(floor(dense_sum)) (exact: dense_sum is an integer when weight_exp >= 0)",
            "spiking": bool(layer.spiking), "du": np.asarray(layer.du).tolist(), "dv": np.asarray(layer.dv).tolist(),
            "vth": np.asarray(layer.vth).tolist(), "bias_mant": np.asarray(layer.bias_mant).tolist(),
            "bias_exp": int(layer.bias_exp), "lambda": float(layer.scale),
            "readout_scale": float(layer.readout_scale),
        })
    return out


def qonnx_model(net: IntNetwork, command: str = "neurocal export --qonnx", batch: int = 1) -> onnx.ModelProto:
    """The QONNX model of ``net``'s synaptic layers (see the module docstring); ``command`` goes in the banner.

    ``batch`` rows (ticks) per call, fixed as FINN and hls4ml expect (qonnx' cleanup turns a symbolic
    batch into 0); the default 1 is one tick's spike vector per layer.
    """
    if batch < 1:
        raise NeurocalError(f"QONNX batch must be >= 1, got {batch}")
    _check_exact(net)
    nodes, inits, inputs, outputs = [], [], [], []
    for i, layer in enumerate(net.layers):
        q, k, bits, signed, narrow = layer_weights(layer)
        n_in, n_out = q.shape
        p = f"l{i}_"
        inits += [
            numpy_helper.from_array((q * 2.0**k).astype(np.float32), p + "W"),
            numpy_helper.from_array(np.array(2.0**k, dtype=np.float32), p + "scale"),
            numpy_helper.from_array(np.array(0.0, dtype=np.float32), p + "zeropt"),
            numpy_helper.from_array(np.array(float(bits), dtype=np.float32), p + "bitwidth"),
        ]
        nodes.append(helper.make_node(
            "Quant", [p + "W", p + "scale", p + "zeropt", p + "bitwidth"], [p + "Wq"], name=p + "Quant",
            domain=QONNX_DOMAIN, signed=int(signed), narrow=int(narrow), rounding_mode="ROUND",
        ))
        nodes.append(helper.make_node("MatMul", [f"spikes_{i}", p + "Wq"], [f"dense_sum_{i}"], name=p + "MatMul"))
        inputs.append(helper.make_tensor_value_info(f"spikes_{i}", TensorProto.FLOAT, [batch, n_in]))
        outputs.append(helper.make_tensor_value_info(f"dense_sum_{i}", TensorProto.FLOAT, [batch, n_out]))
    doc = (f"Generated by `{command}` from the integer network {net.content_hash}: the synaptic (Dense) layers of "
           f"a neurocal LIF network, one Quant + MatMul per layer, integer units: dense_sum = (Σ w) · 2^weight_exp, "
           f"the synaptic input a = int32(floor(dense_sum)). Inputs spikes_l and outputs dense_sum_l are in layer "
           f"order (qonnx' cleanup renames them global_in*, global_out*). {NOT_EXPRESSED}.")
    graph = helper.make_graph(nodes, "neurocal_synaptic_layers", inputs, outputs, inits, doc_string=doc)
    model = helper.make_model(
        graph, producer_name="neurocal", doc_string=doc,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(QONNX_DOMAIN, 1)],
    )
    model.ir_version = 8  # opset 13's IR: readable by the onnxruntime FINN and hls4ml pin
    helper.set_model_props(model, {
        "neurocal.schema": SCHEMA,
        "neurocal.content_hash": net.content_hash,
        "neurocal.generated_by": command,
        "neurocal.not_expressed": NOT_EXPRESSED,
        "neurocal.layers": json.dumps(_layer_metadata(net)),
        "neurocal.readout": net.readout,
    })
    onnx.checker.check_model(model)
    return model


def intnet_of_run(run_dir: str | os.PathLike[str], nir_path: str | os.PathLike[str],
                  data_path: str | os.PathLike[str] | None = None, source: str | None = None) -> IntNetwork:
    """The integer network of an exported run: its NIR graph quantised on the QAT calibration events.

    The calibration is the first ``calibration_events`` training events (a QAT run's recorded number,
    else :data:`~neurocal.models.qat.DEFAULT_CALIBRATION_EVENTS`) and the quantiser settings a QAT run
    recorded, so a QAT run exports the grid its brevitas quantisers trained on. ``neurocal quantize``
    calibrates on a data file's first events instead; pass its bundle (``--bundle``) to export exactly
    what deploys. ``source`` names the graph in messages (default: ``nir_path``).
    """
    from neurocal.models.qat import DEFAULT_CALIBRATION_EVENTS, calibration_spikes
    from neurocal.models.training import load_split, prepare, read_run
    from neurocal.nirgraph import read_chain
    from neurocal.quantize import QuantConfig, quantize
    from neurocal.sim.frontend import frontend_from_metadata

    run_dir = Path(run_dir)
    config, info = read_run(run_dir)
    data_path = data_path or info.get("data_path")
    if not data_path:
        raise NeurocalError(f"{run_dir}: run.json names no dataset for the calibration events; pass --bundle")
    if not (run_dir / "split.npz").exists():
        raise NeurocalError(f"{run_dir}: no split.npz for the calibration events; pass --bundle")
    qat = info.get("qat_settings", {})
    n_calib = int(qat.get("calibration_events", DEFAULT_CALIBRATION_EVENTS))
    quant_config = QuantConfig(**qat["quant_config"]) if "quant_config" in qat else None  # the grid QAT used
    data = prepare(config, data_path, load_split(run_dir / "split.npz"))
    calib = calibration_spikes(data.x, data.split["train"], n_calib)
    chain = read_chain(nir_path)
    chain.source = source or chain.source
    frontend = frontend_from_metadata(chain.metadata, source=str(nir_path))
    return quantize(chain, calib, quant_config, frontend=frontend.to_dict())

