"""neurocal's additions to a generated hls4ml project: the AER stream top, the standalone testbench, Vitis scripts.

* ``neurocal_aer_top.cpp/.h``: the synthesisable AXI4-Stream top ``<project>_aer`` (neurocal's
  ``nc::aer_event``, ``nc_aer.h``) that reads one event of the input AER stream and writes its output stream,
  calling hls4ml's top once per tick; ``neurocal_aer_config.h`` (generated) gives it the sizes, the port
  types and the AER word layout exported from :mod:`neurocal.aer`; ``build_aer_prj.tcl`` synthesises it.
* ``neurocal_tb.cpp`` (copied from package data) + ``build_tb.sh``: a firmware engineer runs the AER top on
  an AER file with g++ alone, no Python, no Vitis.
* ``vitis_build.sh``: csim / csynth / cosim / IP export through hls4ml's own ``build_prj.tcl`` with AMD
  Vitis HLS (``vitis-run``). It runs only where Vitis is installed and says so, with exit code 3, elsewhere.
* ``tb_data/`` (when events are given): the stimulus and expected outputs of hls4ml's own testbench
  (``<project>_test.cpp``, which Vitis csim and cosim run), one line per tick, expected values from the
  golden model; the testbench writes ``tb_data/csim_results.log``/``rtl_cosim_results.log`` in the same format.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from neurocal import aer
from neurocal.firmware.sources import hls_source

TB_SOURCE = "neurocal_tb.cpp"
AER_CONFIG = "neurocal_aer_config.h"
AER_TOP = "neurocal_aer_top"  # .cpp/.h: the AXI4-Stream top <project>_aer around the hls4ml top
AER_TCL = "build_aer_prj.tcl"
TB_BUILD = "build_tb.sh"
VITIS_BUILD = "vitis_build.sh"
COPIED = (TB_SOURCE,)  # files of the project root that are package data, not generated

_AER_CONSTANTS = (
    "KIND_SHIFT", "TICK_SHIFT", "TICK_MASK", "ADDR_MASK", "KIND_SPIKE", "KIND_END_OF_TICK", "KIND_END_OF_EVENT",
    "KIND_VOLTAGE", "VOLTAGE_MASK", "VOLTAGE_INDEX_SHIFT", "VOLTAGE_INDEX_MASK",
)


def _aer_config(model: Any, project_name: str, n_layers: int) -> str:
    """The per-project parameters of nc::aer_event (nc_aer.h) and of the testbench."""
    inputs = model.get_input_variables()
    outputs = model.get_output_variables()
    out = outputs[-1]  # the output layer's probe [spikes, v, u]
    hidden = outputs[:-1]
    lines = [
        "#ifndef NEUROCAL_AER_CONFIG_H_",
        "#define NEUROCAL_AER_CONFIG_H_",
        "",
        "#include <stdint.h>",
        "",
        f'#include "firmware/{project_name}.h"',
        "",
        "struct neurocal_aer_config {",
        "    // AER word layout, exported from neurocal/aer.py",
        *[f"    static const uint32_t {name} = {int(getattr(aer, name))}u;" for name in _AER_CONSTANTS],
        "",
        f"    static const unsigned N_IN = {inputs[0].size()};  // input channels",
        f"    static const unsigned N_LAYERS = {n_layers};  // an event of T ticks runs T + N_LAYERS ticks",
        f"    static const unsigned N_OUT = {out.size() // 3};  // output neurons",
        "",
        f"    typedef ::{inputs[0].type.name} input_t;",
        f"    typedef ::{inputs[1].type.name} flag_t;",
        f"    typedef ::{out.type.name} probe_t;",
        "",
        "    // One tick: one call of the hls4ml top. The hidden layers' probes stay inside.",
        "    static void tick(input_t in[N_IN], flag_t first_tick[1], probe_t out[3 * N_OUT]) {",
        *[f"        static ::{v.type.name} {v.name}[{v.size()}];" for v in hidden],
        f"        ::{project_name}(in, first_tick, {''.join(v.name + ', ' for v in hidden)}out);",
        "    }",
        "};",
        "",
        "#endif",
        "",
    ]
    return "\n".join(lines)


def _aer_top(project_name: str) -> tuple[str, str]:
    header = f"""#ifndef NEUROCAL_AER_TOP_H_
#define NEUROCAL_AER_TOP_H_

#include "ap_int.h"
#include "hls_stream.h"

// One event of neurocal's input AER stream in, its output stream out (neurocal/aer.py); AXI4-Stream ports.
void {project_name}_aer(hls::stream<ap_uint<32> > &s_axis, hls::stream<ap_uint<32> > &m_axis);

// The same under a fixed name, for neurocal_tb.cpp (the testbench is the same for every project).
inline void neurocal_aer_top(hls::stream<ap_uint<32> > &s_axis, hls::stream<ap_uint<32> > &m_axis) {{
    {project_name}_aer(s_axis, m_axis);
}}

#endif
"""
    source = f"""#include "{AER_TOP}.h"
#include "{AER_CONFIG}"
#include "firmware/nnet_utils/nc_aer.h"

void {project_name}_aer(hls::stream<ap_uint<32> > &s_axis, hls::stream<ap_uint<32> > &m_axis) {{
    #pragma HLS INTERFACE axis port=s_axis
    #pragma HLS INTERFACE axis port=m_axis
    nc::aer_event<neurocal_aer_config>(s_axis, m_axis);
}}
"""
    return header, source


def _aer_tcl(project_name: str) -> str:
    return f"""# Vitis HLS: C-synthesis and IP export of the AER stream top {project_name}_aer (AXI4-Stream in and out),
# which calls hls4ml's top once per tick. Run through ./{VITIS_BUILD} aer (needs vitis-run on PATH).
set tcldir [file dirname [info script]]
source [file join $tcldir project.tcl]
set flags "-std=c++0x -I$tcldir -I$tcldir/firmware -I$tcldir/firmware/ap_types"
open_project -reset ${{project_name}}_aer_prj
set_top ${{project_name}}_aer
add_files firmware/${{project_name}}.cpp -cflags $flags
add_files {AER_TOP}.cpp -cflags $flags
add_files -tb {TB_SOURCE} -cflags $flags
add_files -tb firmware/weights
open_solution -reset solution1 -flow_target vivado
set_part $part
create_clock -period $clock_period -name default
set_clock_uncertainty $clock_uncertainty default
csynth_design
export_design -format ip_catalog -vendor neurocal.org -library neurocal -ipname ${{project_name}}_aer -version $version
exit
"""


def _tb_build(project_name: str) -> str:
    return f"""#!/bin/bash
# Builds the standalone testbench with g++ (hls4ml's ap_types; no Vitis, no Python):
#   ./{TB_BUILD} && ./neurocal_tb input.aer output.aer
set -e
cd "$(dirname "$0")"
BASEDIR="$(pwd)"
g++ -O2 -std=c++14 -Ifirmware/ap_types -I. -D WEIGHTS_DIR="\\"${{BASEDIR}}/firmware/weights\\"" \\
    {TB_SOURCE} {AER_TOP}.cpp firmware/{project_name}.cpp -o neurocal_tb
echo "built $BASEDIR/neurocal_tb"
"""


def _vitis_build() -> str:
    return f"""#!/bin/bash
# C-simulation, C-synthesis, co-simulation and IP export of this hls4ml project with AMD Vitis HLS,
# through hls4ml's own build_prj.tcl (the options hls4ml's VitisBackend.build() writes to build_opt.tcl).
#   ./{VITIS_BUILD} [csim] [csynth] [cosim] [export] [vsynth]      (default: csynth)
#   ./{VITIS_BUILD} aer        C-synthesis + IP export of the AXI4-Stream AER top ({AER_TCL})
# Reports land in <project>_prj/solution1/syn/report/ (csynth) and .../sim/report/ (cosim).
set -euo pipefail
cd "$(dirname "$0")"
usage() {{ echo "usage: $0 [csim] [csynth] [cosim] [export] [vsynth] | aer   (default: csynth)"; }}
csim=0; synth=0; cosim=0; export_ip=0; vsynth=0; aer=0
[ $# -eq 0 ] && set -- csynth
for step in "$@"; do
  case "$step" in
    aer) aer=1 ;;
    csim) csim=1 ;;
    csynth) synth=1 ;;
    cosim) synth=1; cosim=1 ;;
    export) synth=1; export_ip=1 ;;
    vsynth) synth=1; export_ip=1; vsynth=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 1 ;;
  esac
done
if ! command -v vitis-run >/dev/null 2>&1; then
  echo "{VITIS_BUILD}: AMD Vitis HLS ('vitis-run') is not on PATH: nothing was synthesised or co-simulated." >&2
  echo "  Install Vitis 2024.1 or newer, 'source <Vitis>/settings64.sh', then rerun: $0 $*" >&2
  echo "  (the bit-exact C-simulation runs without Vitis: ./{TB_BUILD} && ./neurocal_tb in.aer out.aer)" >&2
  exit 3
fi
if [ "$aer" = 1 ]; then
  exec vitis-run --mode hls --tcl {AER_TCL}
fi
cat > build_opt.tcl <<EOF
array set opt {{
    reset      0
    csim       $csim
    synth      $synth
    cosim      $cosim
    validation 0
    export     $export_ip
    vsynth     $vsynth
    fifo_opt   0
}}
EOF
exec vitis-run --mode hls --tcl build_prj.tcl
"""


def write_tb_data(root: Path, net: Any, spikes: np.ndarray, probed: list[int]) -> None:
    """hls4ml's testbench files for ``spikes`` (events, ticks, n_in): inputs and the golden probes, per tick.

    Input line: the event's spikes of the tick (silent after the event), then ``first_tick``. Expected line:
    for every probed layer, its spikes, v and u after the tick (the top's outputs, in order).
    """
    from neurocal.golden import simulate

    spikes = np.asarray(spikes, dtype=bool)
    n_ev, n_t, n_in = spikes.shape
    total = n_t + net.n_layers
    golden = simulate(net, spikes, trace=True)
    assert golden.trace is not None
    x = np.zeros((n_ev, total, n_in + 1), dtype=np.int64)
    x[:, :n_t, :n_in] = spikes
    x[:, 0, n_in] = 1
    y = np.concatenate(
        [np.concatenate([golden.spikes[i], golden.trace[i]["v"], golden.trace[i]["u"]], axis=2) for i in probed],
        axis=2,
    ).astype(np.int64)
    (root / "tb_data").mkdir(exist_ok=True)
    for name, table in (("tb_input_features.dat", x), ("tb_output_predictions.dat", y)):
        rows = table.reshape(n_ev * total, -1)
        (root / "tb_data" / name).write_text("".join(" ".join(map(str, row)) + "\n" for row in rows.tolist()))


def write_scripts(root: Path, model: Any, project_name: str, n_layers: int) -> None:
    """Add the testbench and the Vitis script to the project written in ``root``."""
    shutil.copyfile(hls_source("nc_tb.cpp"), root / TB_SOURCE)
    (root / AER_CONFIG).write_text(_aer_config(model, project_name, n_layers))
    header, source = _aer_top(project_name)
    (root / f"{AER_TOP}.h").write_text(header)
    (root / f"{AER_TOP}.cpp").write_text(source)
    (root / AER_TCL).write_text(_aer_tcl(project_name))
    for name, text in ((TB_BUILD, _tb_build(project_name)), (VITIS_BUILD, _vitis_build())):
        (root / name).write_text(text)
        (root / name).chmod(0o755)
