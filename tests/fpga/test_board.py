"""The driver's calls against a core: the simulated board (axi_dma model + AXI4-Lite port driving nc_top in
Icarus under cocotb) here, the PYNQ board where one exists. The same tests run on both targets; the board's
are skipped here only because this machine has no PYNQ device.

On a board, ``NEUROCAL_DEPLOY`` names the deploy folder whose overlay (``neurocal fpga build``) is loaded.
A core built for another shape or network, or holding other weights, is refused with one line naming the
difference; a stalled stream times out in one line; a send longer than the DMA's length limit is split.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurocal import aer
from neurocal.backends import compare_results
from neurocal.cores import get_core
from neurocal.errors import NeurocalError
from neurocal.fpga import rtlsim
from neurocal.fpga.backend import DEPLOY_ENV
from neurocal.fpga.deploy import board_shape, expected, load_deploy
from neurocal.fpga.driver import split_transfers
from neurocal.golden import GoldenBackend
from neurocal.profiles import profile
from neurocal.testnets import random_network
from tests.fpga.conftest import small_network
from tests.hw.conftest import BUILD_ROOT


def _board_reason() -> str | None:
    """None where a PYNQ device is present, else why the board target is skipped."""
    try:
        from pynq import Device

        if not Device.devices:
            return "no PYNQ board here: pynq finds no device"
        if not os.environ.get(DEPLOY_ENV):
            return f"a PYNQ board is here but {DEPLOY_ENV} names no deploy folder with a built overlay"
        return None
    except Exception as err:  # pynq raises RuntimeError('No Devices Found') and others without a board
        return f"no PYNQ board here: pynq says {err}"


BOARD = pytest.param("pynq", marks=[pytest.mark.board, pytest.mark.skipif(_board_reason() is not None,
                                                                          reason=str(_board_reason()))])
TARGETS = [pytest.param("rtl-sim", marks=pytest.mark.rtl), BOARD]


def _spikes(n_in: int, n_events: int = 5, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).random((n_events, 6, n_in)) < 0.45


def _run(target: str, folder: Path, spikes: np.ndarray, sim: str = "icarus", **kw) -> tuple[np.ndarray, int, int]:
    """The output words, and the send and receive transfers the driver made."""
    info, net, shape = load_deploy(folder)
    if target == "rtl-sim":
        run = rtlsim.run_driver(info, net, shape, spikes, sim=sim, build_root=BUILD_ROOT, **kw)
        return run.words, run.sends, run.receives
    from neurocal.fpga.overlay import NeurocalOverlay

    drv = NeurocalOverlay(str(folder / "overlay" / "neurocal.bit")).driver(info["n_outputs"])
    drv.batch_events = kw.get("batch_events")
    drv.check(info["expected"])
    return drv.run_events(spikes, net.n_layers), drv.sends, drv.receives


def _exact(folder: Path, spikes: np.ndarray, words: np.ndarray) -> None:
    _, net, _ = load_deploy(folder)
    cmp = compare_results(GoldenBackend().run(net, spikes), get_core().decode(net, words, spikes.shape, "driver"))
    assert cmp.first is None, f"first divergence {cmp.first}"


@pytest.mark.parametrize("target", TARGETS)
def test_events_in_batches_match_the_golden_model(target: str, deploy_dirs: dict[str, Path]) -> None:
    folder = deploy_dirs["pynq-z2"] if target == "rtl-sim" else Path(os.environ[DEPLOY_ENV])
    spikes = _spikes(load_deploy(folder)[1].n_inputs)
    words, sends, receives = _run(target, folder, spikes, batch_events=2)
    assert sends == receives == 3  # 5 events in batches of 2: one send and one receive per batch
    _exact(folder, spikes, words)


@pytest.mark.rtl
def test_serial_run_reads_every_events_cycles_and_the_cycle_model_predicts_them(deploy_dirs: dict[str, Path]) -> None:
    """``serial``: one event per batch, each to an idle core; the driver's LAST_CYCLES reads are every event's
    latency, equal event for event to the cycle model of the deploy folder's shape (serial events)."""
    from neurocal.hw.costmodel import predict_run

    folder = deploy_dirs["pynq-z2"]
    info, net, shape = load_deploy(folder)
    spikes = _spikes(net.n_inputs, n_events=5, seed=4)
    run = rtlsim.run_driver(info, net, shape, spikes, sim="icarus", build_root=BUILD_ROOT, serial=True)
    assert run.sends == run.receives == 5
    _exact(folder, spikes, run.words)
    model = predict_run(shape, spikes, GoldenBackend().run(net, spikes), serial=True).cycles
    assert run.cycles == model.tolist()
    assert max(run.cycles) == run.registers["MAX_CYCLES"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("neurocal") or "neurocal", *args], capture_output=True, text=True,
                          check=False, timeout=1800)


@pytest.mark.parametrize("target", TARGETS)
def test_deploy_run_sends_200_showers_in_batches_bit_exact(target: str, showers: tuple[Path, Path]) -> None:
    """Issue 18's acceptance run: ``neurocal deploy run`` sends 200 calorimeter events through the driver, 50 per
    DMA transfer, and compares every event with the golden model (Verilator here; the board where one is)."""
    from neurocal.bundle import load_network_and_spikes

    folder, data = showers
    if target == "rtl-sim":
        where = ["--target", "rtl-sim", "--deploy", str(folder), "--sim", "verilator", "--build-root", str(BUILD_ROOT)]
    else:
        folder = Path(os.environ[DEPLOY_ENV])
        where = ["--target", "pynq", "--deploy", str(folder)]
    net, spikes = load_network_and_spikes(folder / "intnet.json", data, 200)
    assert GoldenBackend().run(net, spikes).layer_spikes[0].any(), "no hidden spike: the run would prove little"
    done = _cli("deploy", "run", *where, "--data", str(data), "--events", "200", "--batch", "50", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["events"] == 200 and report["send_transfers"] == report["receive_transfers"] == 4
    assert report["mismatched_events"] == 0 and report["first_divergence"] is None, report["first_divergence"]


@pytest.mark.rtl
def test_a_stream_over_the_length_limit_is_split_not_truncated(deploy_dirs: dict[str, Path]) -> None:
    """A length register that holds about two events: the driver sends whole events per transfer, each placed
    on the ZCU104's 16-byte memory-map width (the simulated MM2S refuses an unaligned start as PYNQ does) and
    ending mid-beat where an event does (4 AER words per beat: tkeep); receives are capped by it too."""
    folder = deploy_dirs["zcu104"]
    info, net, shape = load_deploy(folder)
    spikes = _spikes(6, 5)
    words = aer.encode_events(spikes)
    longest = int(np.diff(np.concatenate([[0], np.flatnonzero(words >> aer.KIND_SHIFT == aer.KIND_END_OF_EVENT)
                                          + 1])).max())
    out_bound = net.n_outputs * (spikes.shape[1] + net.n_layers) + net.n_outputs + 1
    max_bytes = 4 * max(2 * longest - 1, out_bound)
    run = rtlsim.run_driver(info, net, shape, spikes, sim="icarus", build_root=BUILD_ROOT, max_bytes=max_bytes)
    events_per_receive = max_bytes // (4 * out_bound)  # a receive holds the batch's largest possible answer
    assert run.sends == run.receives == len(split_transfers(words, max_bytes, events_per_receive)) > 1
    _exact(folder, spikes, run.words)


@pytest.mark.rtl
def test_driver_runs_with_torch_lava_h5py_unimportable(deploy_dirs: dict[str, Path], tmp_path: Path) -> None:
    """The simulator's Python inherits the test process's path, which starts with packages that refuse import."""
    for name in ("torch", "lava", "h5py"):
        (tmp_path / "block" / name).mkdir(parents=True)
        (tmp_path / "block" / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked')\n")
    code = f"""
import sys
sys.path.insert(0, {str(tmp_path / 'block')!r})
import numpy as np
from pathlib import Path
from neurocal.fpga import rtlsim
from neurocal.fpga.backend import DEPLOY_ENV
from neurocal.fpga.driver import split_transfers
from neurocal.fpga.deploy import load_deploy
info, net, shape = load_deploy(Path({str(deploy_dirs['pynq-z2'])!r}))
spikes = np.random.default_rng(2).random((3, 6, 6)) < 0.45
run = rtlsim.run_driver(info, net, shape, spikes, sim="icarus", build_root=Path({str(BUILD_ROOT)!r}))
np.save({str(tmp_path / 'words.npy')!r}, run.words)
print("MODULES", " ".join(run.modules))
print("HOST", " ".join(sorted({{m.split('.')[0] for m in sys.modules}})))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.startswith(("MODULES", "HOST")))
    sim_modules, host_modules = set(lines["MODULES"].split()), set(lines["HOST"].split())
    assert "cocotb" in sim_modules and "neurocal" in sim_modules  # the list is the simulator's
    assert not {"torch", "lava", "h5py"} & (sim_modules | host_modules)
    _exact(deploy_dirs["pynq-z2"], np.random.default_rng(2).random((3, 6, 6)) < 0.45, np.load(tmp_path / "words.npy"))


@pytest.mark.rtl
def test_core_with_another_network_is_refused(deploy_dirs: dict[str, Path]) -> None:
    """The same shape and widths (layer 0's inputs rotated: every neuron keeps its weights' sums), other weights."""
    info, net, shape = load_deploy(deploy_dirs["pynq-z2"])
    other = copy.deepcopy(net)
    other.layers[0].weights = np.roll(other.layers[0].weights, 1, axis=1)
    assert other.content_hash != net.content_hash
    with pytest.raises(NeurocalError, match=r"register HASH reads [0-9a-f]{16}, the deploy folder's network is "
                                            r"[0-9a-f]{16}: the core holds another network or front end"):
        rtlsim.run_driver(info, net, shape, _spikes(6, 1), sim="icarus", build_root=BUILD_ROOT,
                          core_net=other, core_shape=shape)


@pytest.mark.rtl
def test_core_for_another_front_end_is_refused(deploy_dirs: dict[str, Path]) -> None:
    """The same integers, another front end (thresholds): the deploy folder's hash differs from the core's."""
    info, net, shape = load_deploy(deploy_dirs["pynq-z2"])
    deployed = copy.deepcopy(net)
    deployed.frontend = {**net.frontend, "thresholds": [2e2, 2e3, 2e4, 2e5]}
    info = {**info, "expected": expected(get_core(), deployed, shape)}
    with pytest.raises(NeurocalError, match=r"the core holds another network or front end"):
        rtlsim.run_driver(info, deployed, shape, _spikes(6, 1), sim="icarus", build_root=BUILD_ROOT, core_net=net)


@pytest.mark.rtl
def test_core_loaded_with_other_weights_is_refused_by_its_crc(deploy_dirs: dict[str, Path]) -> None:
    info, net, shape = load_deploy(deploy_dirs["pynq-z2"])
    with pytest.raises(NeurocalError, match=r"memory CRC reads 0x[0-9a-f]{8}, the deploy folder's network gives "
                                            r"0x[0-9a-f]{8}: the core's weights differ"):
        rtlsim.run_driver(info, net, shape, _spikes(6, 1), sim="icarus", build_root=BUILD_ROOT,
                          tamper=small_network(seed=7))


@pytest.mark.rtl
def test_core_of_another_shape_is_refused(deploy_dirs: dict[str, Path]) -> None:
    info, net, shape = load_deploy(deploy_dirs["pynq-z2"])
    other = random_network([6, 4, 3], np.random.default_rng(1), readout="spikes")
    other_shape = board_shape(get_core(), other, profile("pynq-z2"))
    with pytest.raises(NeurocalError, match=r"register CAPS reads 0x[0-9a-f]+, the deploy folder expects 0x[0-9a-f]+"
                                            r"|layer 0: register L_N_OUT reads 4, the deploy folder expects 5"):
        rtlsim.run_driver(info, net, shape, _spikes(6, 1), sim="icarus", build_root=BUILD_ROOT,
                          core_net=other, core_shape=other_shape)


@pytest.mark.rtl
def test_stalled_stream_times_out_in_one_line(deploy_dirs: dict[str, Path]) -> None:
    info, net, shape = load_deploy(deploy_dirs["pynq-z2"])
    with pytest.raises(NeurocalError) as err:
        rtlsim.run_driver(info, net, shape, _spikes(6, 2), sim="icarus", build_root=BUILD_ROOT, stall_output=True,
                          timeout_s=20e-6)
    message = str(err.value)
    assert "\n" not in message
    assert "no answer to batch 0 (events 0..1) within 4e-05 s (2e-05 s per event in flight): stalled stream" in message


@pytest.mark.rtl
def test_driver_loads_the_network_into_a_writable_core(deploy_dirs: dict[str, Path]) -> None:
    """A core whose memory files hold another network of the shape: the driver writes the deploy folder's memories
    over AXI4-Lite, the check (hash and CRC) then passes and the outputs are the deploy folder's network's."""
    folder = deploy_dirs["pynq-z2"]
    info, net, shape = load_deploy(folder)
    other = copy.deepcopy(net)
    other.layers[0].weights = np.roll(other.layers[0].weights, 1, axis=1)
    spikes = _spikes(6, 3)
    run = rtlsim.run_driver(info, net, shape, spikes, sim="icarus", build_root=BUILD_ROOT, core_net=other, load=True)
    _exact(folder, spikes, run.words)
