"""Generate and compile the hls4ml project of an :class:`~neurocal.intnet.IntNetwork`.

The graph (built from the integer network, no torch model)::

    spikes_in (ap_uint<1>[n_in]) ─► Dense fc0 ─► NeurocalLIF lif0 ─► Dense fc1 ─► NeurocalLIF lif1 …
    first_tick (ap_uint<1>[1]) ─────────────────────┴─────────────────────────────────┘

One call of the top function is one tick; ``first_tick = 1`` on tick 0 of an event clears every
layer's state. An event of T input ticks is T + L calls (zero input after the event), as in the
contract. Dense layers are hls4ml's own (``ap_int<9>`` weights, accumulator and result sized to hold
every possible sum exactly, so hls4ml's silent wrap cannot happen); the LIF is neurocal's custom
layer (:mod:`neurocal.firmware.lif_layer`). The top-level outputs are the layers' probes
``[spikes, v, u]``.

Generation is deterministic (the hls4ml stamp is derived from the content instead of a random
uuid) and atomic: the project is written into a staging folder and swapped in whole by
:func:`neurocal.atomic.atomic_dir` (whose ``neurocal-manifest.json`` holds every file's size and
sha256), then compiled in place. Every generated source carries a banner naming the command that made
it; ``neurocal_firmware.json`` records the network hash, the config, the cache key and every file's
origin (generated, or copied from hls4ml's library or neurocal's package data).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurocal.errors import NeurocalError
from neurocal.firmware.scripts import COPIED, write_scripts, write_tb_data
from neurocal.firmware.sources import hls_source
from neurocal.intnet import ACT_SHIFT, SUM_BITS, IntNetwork, signed_bits
from neurocal.quoting import XILINX_PART, check_string_path, check_token, printable

MANIFEST = "neurocal_firmware.json"  # what the project is (network, config, file origins)
PROJECT_KIND = "hls4ml firmware project"  # kind in the spine's neurocal-manifest.json
SPINE_MANIFEST = "neurocal-manifest.json"  # neurocal.atomic.MANIFEST: atomic_dir writes it anew
PRODUCTS = ("firmware/*.so", "*.o", "build_lib.log")  # what build_lib.sh adds to the project in place
MANIFEST_SCHEMA = "neurocal.firmware"
MANIFEST_VERSION = 1
INPUT = "spikes_in"
FLAG = "first_tick"
WEIGHT_BITS = 9  # Lava's 8-bit mantissa, ×2 for mixed-sign layers: [−256, 255]

# Files hls4ml copies from its own library (or ours from package data) rather than generates.
_LIBRARY_DIRS = ("firmware/ap_types/", "firmware/nnet_utils/")
_GENERATED_IN_LIBRARY = ("firmware/nnet_utils/nnet_code_gen.h",)
_UNCERTAINTY = re.compile(r"[0-9]+(\.[0-9]+)?%?")  # hls4ml writes it into project.tcl as it is
_COMMENT = {".cpp": "//", ".h": "//", ".hpp": "//", ".tcl": "#", ".sh": "#", ".yml": "#", ".py": "#"}


@dataclass(frozen=True)
class FirmwareConfig:
    """Choices of the firmware build (all of them are part of the cache key)."""

    project_name: str = "neurocal_snn"
    part: str = "xczu7ev-ffvc1156-2-e"  # ZCU104 (PYNQ-supported UltraScale+)
    clock_period_ns: float = 4.0  # 250 MHz
    clock_uncertainty: str = "12.5%"
    probes: str = "all"  # "all": every layer's [spikes, v, u] is a top-level output; "output": the last layer's only
    strategy: str = "Latency"  # hls4ml Dense strategy: "Latency" (all products in parallel) or "Resource"
    reuse_factor: int = 1  # hls4ml ReuseFactor of the Dense layers (multipliers shared over this many cycles)

    def __post_init__(self) -> None:
        if self.strategy not in ("Latency", "Resource"):
            raise NeurocalError(f"firmware config: field 'strategy' is {self.strategy!r}; use 'Latency' or 'Resource'")
        if not 1 <= self.reuse_factor <= 4096:
            raise NeurocalError(f"firmware config: field 'reuse_factor' {self.reuse_factor} is out of 1..4096")
        if self.probes not in ("all", "output"):
            raise NeurocalError(f"firmware config: field 'probes' is {self.probes!r}; use 'all' or 'output'")
        if not self.project_name.isidentifier():
            raise NeurocalError(
                f"firmware config: field 'project_name' {self.project_name!r} is not a C identifier; use letters, "
                f"digits and '_'"
            )
        check_token(self.part, XILINX_PART, "firmware config: field 'part' (--part)", "xczu7ev-ffvc1156-2-e")
        if not _UNCERTAINTY.fullmatch(self.clock_uncertainty):
            raise NeurocalError(f"firmware config: field 'clock_uncertainty' {self.clock_uncertainty!r} is not a "
                                "number of ns or a percentage (e.g. '12.5%')")
        if not 0 < self.clock_period_ns < 1000:
            raise NeurocalError(f"firmware config: field 'clock_period_ns' {self.clock_period_ns} is out of (0, 1000)")


@dataclass(frozen=True)
class Project:
    """A generated and compiled hls4ml project."""

    path: Path
    key: str
    content_hash: str
    config: FirmwareConfig
    library: Path
    n_inputs: int
    layer_sizes: tuple[int, ...]
    probed_layers: tuple[int, ...]


# ----------------------------------------------------------------------------------------- widths


def _widths(net: IntNetwork) -> list[dict[str, int]]:
    """Each layer's register and sum widths: the static worst case over any input (``static_widths``).

    ``a_bits``: the synaptic input ``a << 6``; ``u_bits``: the current register and its sum before the
    wrap; ``v_sum_bits``: the voltage sum before the clip (the register itself is always 24 bits, v is
    clipped to ±(2^23 − 1)). A bound that reaches 2^31 gives 32 bits: the contract's int32 wrap-around.
    Below that the sums cannot leave their width, so a narrower type computes the same integers.
    """
    limit = 1 << (SUM_BITS - 1)
    return [{"a_bits": min(signed_bits(min(w.a_max << ACT_SHIFT, limit)), SUM_BITS), "u_bits": int(w.u_bits),
             "v_sum_bits": int(w.v_bits)} for w in net.static_widths()]


def _per_neuron(value: Any, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.int64), (n,)).copy()


# ----------------------------------------------------------------------------------------- graph


def layer_list(net: IntNetwork) -> list[dict[str, Any]]:
    """hls4ml layer dictionaries (``ModelGraph.from_layer_list``) for ``net``."""
    from neurocal.firmware.lif_layer import dense_sum_bits

    layers: list[dict[str, Any]] = [
        {"class_name": "Input", "name": INPUT, "input_shape": [net.n_inputs]},
        {"class_name": "Input", "name": FLAG, "input_shape": [1]},
    ]
    prev = INPUT
    for i, (layer, widths) in enumerate(zip(net.layers, _widths(net), strict=True)):
        n = layer.n_out
        w = np.asarray(layer.weights, dtype=np.int64).T  # hls4ml Dense: (n_in, n_out)
        layers.append({
            "class_name": "Dense", "name": f"fc{i}", "inputs": [prev], "n_in": layer.n_in, "n_out": n,
            "weight_data": w.astype(np.float64), "bias_data": np.zeros(n), "sum_bits": dense_sum_bits(w),
        })
        layers.append({
            "class_name": "NeurocalLIF", "name": f"lif{i}", "inputs": [f"fc{i}", FLAG],
            "outputs": [f"lif{i}", f"lif{i}_probe"], "n_out": n, "weight_exp": int(layer.weight_exp),
            "spiking": bool(layer.spiking), **widths,
            "du_data": _per_neuron(layer.du, n), "dv_data": _per_neuron(layer.dv, n),
            "vth_data": _per_neuron(layer.vth, n),
            "bias_data": np.asarray(layer.effective_bias, dtype=np.int64).reshape(n),
        })
        prev = f"lif{i}"
    return layers


def hls4ml_config(net: IntNetwork, config: FirmwareConfig, out_dir: Path) -> dict[str, Any]:
    """The hls4ml configuration dictionary: per-layer exact integer precisions, the Dense strategy, the clock."""
    names: dict[str, Any] = {
        INPUT: {"Precision": {"result": "ap_uint<1>"}},
        FLAG: {"Precision": {"result": "ap_uint<1>"}},
    }
    for entry in layer_list(net):
        if entry["class_name"] == "Dense":
            acc = f"ap_int<{entry['sum_bits']}>"
            names[entry["name"]] = {
                "Precision": {"weight": f"ap_int<{WEIGHT_BITS}>", "bias": "ap_int<2>", "accum": acc, "result": acc},
                "ReuseFactor": config.reuse_factor, "Strategy": config.strategy,
            }
    return {
        "Backend": "Vitis",
        "OutputDir": str(out_dir),
        "ProjectName": config.project_name,
        "Part": config.part,
        "ClockPeriod": config.clock_period_ns,
        "ClockUncertainty": config.clock_uncertainty,
        "IOType": "io_parallel",
        "HLSConfig": {
            "Model": {"Precision": "ap_int<32>", "ReuseFactor": 1, "Strategy": "Latency"},
            "LayerName": names,
        },
        "WriterConfig": {"Namespace": None, "WriteWeightsTxt": True, "WriteTar": False},
    }


def build_model(net: IntNetwork, config: FirmwareConfig, out_dir: Path) -> Any:
    """The hls4ml ``ModelGraph`` of ``net`` (hls4ml flows applied, nothing written)."""
    import hls4ml

    from neurocal.firmware.lif_layer import register

    register()
    layers = layer_list(net)
    for entry in layers:
        entry.pop("sum_bits", None)
    last = f"lif{net.n_layers - 1}"
    model = hls4ml.model.ModelGraph.from_layer_list(
        hls4ml_config(net, config, out_dir), layers, inputs=[INPUT, FLAG], outputs=[last]
    )
    # The top-level outputs are the probes only (a hidden layer's spikes feed the next Dense and must stay
    # internal: an output port cannot be read back in HLS). from_layer_list selects outputs by layer name,
    # which would take a layer's spikes too, so the output list is set here, before anything is written.
    probed = range(net.n_layers) if config.probes == "all" else [net.n_layers - 1]
    model.outputs = [f"lif{i}_probe" for i in probed]
    model.config.config["OutputShapes"] = {v.name: list(v.shape) for v in model.get_output_variables()}
    return model


def used_reuse_factors(model: Any) -> dict[str, int]:
    """The ReuseFactor hls4ml settled on for each Dense layer (it moves an invalid one to the nearest valid)."""
    return {layer.name: int(layer.get_attr("reuse_factor")) for layer in model.get_layers()
            if layer.class_name == "Dense" and layer.get_attr("reuse_factor") is not None}


class _HlsOutput(io.TextIOBase):
    """hls4ml's stdout, passed on to stderr line by line, without its ReuseFactor warnings (see generate)."""

    def __init__(self) -> None:
        self._line = ""

    def write(self, text: str) -> int:
        self._line += text
        *lines, self._line = self._line.split("\n")
        for line in lines:
            if not line.startswith("WARNING: Invalid ReuseFactor"):
                print(line, file=sys.stderr)
        return len(text)


# ----------------------------------------------------------------------------------------- files


def source_fingerprint() -> str:
    """sha256 over what shapes the generated project besides the network: our C++ core, this code, hls4ml's version."""
    import hls4ml

    h = hashlib.sha256()
    for source in ("nc_lif.h", "nc_aer.h", "nc_tb.cpp"):
        h.update(hls_source(source).read_bytes())
    for module in ("project.py", "lif_layer.py", "scripts.py"):
        h.update((Path(__file__).parent / module).read_bytes())
    h.update(hls4ml.__version__.encode())
    return h.hexdigest()


def project_key(net: IntNetwork, config: FirmwareConfig, stimulus: np.ndarray | None = None) -> str:
    """Cache key: the network's content hash, the firmware config, the source fingerprint (and the tb stimulus)."""
    fields: dict[str, Any] = {"net": net.content_hash, "config": asdict(config), "sources": source_fingerprint()}
    if stimulus is not None:
        stim = np.ascontiguousarray(stimulus, dtype=bool)
        fields["stimulus"] = [list(stim.shape), hashlib.sha256(stim.tobytes()).hexdigest()]
    blob = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _is_generated(rel: str) -> bool:
    if rel in COPIED:
        return False
    return not rel.startswith(_LIBRARY_DIRS) or rel in _GENERATED_IN_LIBRARY


def _add_banners(root: Path, command: str) -> None:
    """Prepend '<comment> Generated by …' to every generated source (after a shebang)."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        mark = _COMMENT.get(path.suffix)
        if not path.is_file() or mark is None or not _is_generated(rel):
            continue
        banner = (f"{mark} Generated by `{printable(command)}` (neurocal firmware, hls4ml project); do not edit: "
                  f"regenerate.\n")
        text = path.read_text()
        if text.startswith("#!"):
            first, _, rest = text.partition("\n")
            text = f"{first}\n{banner}{rest}"
        else:
            text = banner + text
        path.write_text(text)


def _fix_config_file(root: Path, final: Path, model: Any) -> None:
    """Two corrections to hls4ml's ``hls4ml_config.yml``, so that hls4ml can reopen the project as it is.

    ``OutputDir`` names the final folder (the project is written in a staging folder and renamed), and
    ``InputShapes``/``OutputShapes`` keep the top function's argument order: hls4ml dumps the file with
    sorted keys, and ``link_existing_project`` passes the arrays in the file's order.
    """
    import yaml

    cfg_path = root / "hls4ml_config.yml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["OutputDir"] = str(final)
    cfg["InputShapes"] = {v.name: list(v.shape) for v in model.get_input_variables()}
    cfg["OutputShapes"] = {v.name: list(v.shape) for v in model.get_output_variables()}
    cfg_path.write_text(yaml.dump(dict(sorted(cfg.items())), sort_keys=False))


def _manifest(root: Path, net: IntNetwork, config: FirmwareConfig, key: str, command: str, library: str) -> dict:
    import hls4ml

    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel == library or rel == MANIFEST:
            continue  # (the spine's manifest, written after this one, holds every file's size and sha256)
        files[rel] = "generated" if _is_generated(rel) else "copied (hls4ml library or neurocal package data)"
    return {
        "schema": MANIFEST_SCHEMA, "schema_version": MANIFEST_VERSION, "command": command,
        "content_hash": net.content_hash, "key": key, "config": asdict(config), "hls4ml": hls4ml.__version__,
        "n_inputs": net.n_inputs, "layer_sizes": [layer.n_out for layer in net.layers],
        "library": library, "files": files,
    }


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of a neurocal firmware project folder, or None if the folder is not one."""
    try:
        data = json.loads((path / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == MANIFEST_SCHEMA else None


def _project_from_manifest(path: Path, data: dict[str, Any]) -> Project:
    config = FirmwareConfig(**data["config"])
    sizes = tuple(int(n) for n in data["layer_sizes"])
    probed = tuple(range(len(sizes))) if config.probes == "all" else (len(sizes) - 1,)
    return Project(path=path, key=data["key"], content_hash=data["content_hash"], config=config,
                   library=path / data["library"], n_inputs=int(data["n_inputs"]), layer_sizes=sizes,
                   probed_layers=probed)


def check_limits(net: IntNetwork) -> None:
    """Refuse a network the project's AER stream top cannot carry (16-bit channel and neuron addresses)."""
    from neurocal.aer import MAX_CHANNELS

    for what, n in (("inputs", net.n_inputs), ("output neurons", net.n_outputs)):
        if n > MAX_CHANNELS:
            raise NeurocalError(
                f"{net.source}: the network has {n} {what}; the firmware's AER stream addresses at most "
                f"{MAX_CHANNELS} (16-bit address field of neurocal.aer): split the layer or reduce the channels"
            )


def _require_gpp() -> None:
    if shutil.which("g++") is None:
        raise NeurocalError("g++ is not on PATH: the HLS C-simulation needs it (Debian: apt-get install g++)")


_BASEDIR_LINE = 'BASEDIR="$(cd "$(dirname "$0")" && pwd)"'
_STAGED_BASEDIR_LINE = 'BASEDIR="${NC_PROJECT_DIR:-$(cd "$(dirname "$0")" && pwd)}"'


def _compile_for(root: Path) -> None:
    """Let ``build_lib.sh`` bake another folder than its own into the library (``NC_PROJECT_DIR``).

    The library reads its weights from ``<project>/firmware/weights`` by absolute path: compiled in the
    staging folder, it must name the final one.
    """
    script = root / "build_lib.sh"
    text = script.read_text()
    if _STAGED_BASEDIR_LINE in text:
        return
    if _BASEDIR_LINE not in text:
        raise NeurocalError(f"{script}: hls4ml's build_lib.sh no longer sets BASEDIR as neurocal expects; "
                            "neurocal's firmware generator needs updating for this hls4ml")
    script.write_text(text.replace(_BASEDIR_LINE, _STAGED_BASEDIR_LINE))


def _compile(root: Path, final: Path) -> None:
    """hls4ml's ``build_lib.sh`` (plain g++ against hls4ml's ap_types) in ``root``: the C-simulation library
    of the project that will live at ``final``."""
    _require_gpp()
    env = {**os.environ, "NC_PROJECT_DIR": str(final)}
    proc = subprocess.run(["bash", "build_lib.sh"], cwd=root, capture_output=True, text=True, check=False, env=env)
    (root / "build_lib.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise NeurocalError(
            f"{final}: g++ failed to compile the HLS C-simulation (exit {proc.returncode}; the project is whole but "
            f"uncompiled, log in build_lib.log):\n{tail}"
        )


def _compile_staged(staging: Path, final: Path, library: str) -> NeurocalError | None:
    """Compile in the staging folder; a g++ failure is returned (the uncompiled project is still swapped in,
    with its log), an interrupt is raised (nothing is swapped in: the previous project stays as it was)."""
    from neurocal.atomic import check_interrupt

    try:
        _compile(staging, final)
    except NeurocalError as err:
        check_interrupt()  # g++ died of the same Ctrl-C: the build was interrupted, not failed
        for leftover in [*staging.glob("*.o"), staging / library]:
            leftover.unlink(missing_ok=True)
        return err
    return None


def generate(
    net: IntNetwork,
    out_dir: str | Path,
    config: FirmwareConfig | None = None,
    *,
    command: str = "neurocal firmware build",
    compile: bool = True,
    force: bool = False,
    option: str = "--out",
    stimulus: np.ndarray | None = None,
) -> Project:
    """Write (and compile) the hls4ml project of ``net`` into ``out_dir``.

    The project is written whole or not at all (:func:`neurocal.atomic.atomic_dir`: a staging folder
    swapped in, with the spine's manifest). If ``out_dir`` already holds the project of the same network,
    config and sources it is reused; one of another network is replaced only with ``force``; a folder that
    is not a neurocal firmware project is never touched. The C-simulation library is compiled afterwards,
    in place: hls4ml's ``build_lib.sh`` bakes the project's path into it (the library reads its weights
    from ``firmware/weights/*.txt``; compiling the initialised weight arrays instead takes g++ minutes).
    A failed compilation leaves the whole, uncompiled project and says so. ``stimulus`` (bool events, ticks,
    n_in) writes ``tb_data/`` for hls4ml's testbench (Vitis csim/cosim), expected values from the golden model.
    """
    from hls4ml.model.optimizer import get_optimizer

    from neurocal.atomic import atomic_dir, check_output_dir

    config = config or FirmwareConfig()
    check_limits(net)
    if compile:
        _require_gpp()  # before any work
    final = check_output_dir(out_dir, option, kind=PROJECT_KIND, products=PRODUCTS)  # refuses a folder that is not ours
    check_string_path(final.absolute(), option, "the C string of the weights folder build_lib.sh compiles in")
    key = project_key(net, config, stimulus)
    existing = read_manifest(final)
    failure: NeurocalError | None = None
    if existing is not None and existing.get("key") == key:
        project = _project_from_manifest(final, existing)
        if compile and not project.library.is_file():  # compiled as a whole copy too: never half in place
            with atomic_dir(final, PROJECT_KIND, option, products=PRODUCTS) as staging:
                shutil.copytree(final, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(SPINE_MANIFEST))
                _compile_for(staging)
                failure = _compile_staged(staging, final, existing["library"])
    else:
        if existing is not None and not force:
            why = ("another network" if existing.get("content_hash") != net.content_hash
                   else "another firmware config or older firmware sources")
            raise NeurocalError(
                f"{final}: holds a stale firmware project ({why}, network {existing.get('content_hash')}); "
                f"rerun with --force to replace it or choose another {option}"
            )
        # hls4ml prints its warnings on stdout: keep stdout for results (--json); its ReuseFactor warnings
        # are replaced by one note naming what each layer really uses
        with (atomic_dir(final, PROJECT_KIND, option, products=PRODUCTS) as staging,
              contextlib.redirect_stdout(_HlsOutput())):
            model = build_model(net, config, staging)
            reuse = used_reuse_factors(model)
            if any(rf != config.reuse_factor for rf in reuse.values()):
                print(f"neurocal: note: --reuse-factor {config.reuse_factor} is not valid for every Dense layer; "
                      "hls4ml uses " + ", ".join(f"{name} {rf}" for name, rf in reuse.items())
                      + " (the nearest reuse factor that divides the layer's multiplications)", file=sys.stderr)
            model.config.config["Stamp"] = key[:8]  # deterministic (hls4ml draws a random uuid otherwise)
            get_optimizer("vitis:write_hls").transform(model)
            _fix_config_file(staging, final, model)
            write_scripts(staging, model, config.project_name, net.n_layers)
            if stimulus is not None:
                probed = list(range(net.n_layers)) if config.probes == "all" else [net.n_layers - 1]
                write_tb_data(staging, net, stimulus, probed)
            _add_banners(staging, command)
            library = f"firmware/{config.project_name}-{key[:8]}.so"
            manifest = {**_manifest(staging, net, config, key, command, library), "reuse_factors": reuse}
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
            _compile_for(staging)
            if compile:
                failure = _compile_staged(staging, final, library)
        data = read_manifest(final)
        assert data is not None
        project = _project_from_manifest(final, data)
    if failure is not None:
        raise failure
    return project
