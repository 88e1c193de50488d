"""The RTL core as a board room sees it (:class:`neurocal.cores.CoreProvider`, entry point ``neurocal.cores:rtl``):
the generator's project, memory images and CRC, the output decoder and the cocotb co-simulation of ``nc_top``."""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurocal.backends import BackendResult
from neurocal.cores import CoreProject
from neurocal.hw import cosim, simulators
from neurocal.hw.generate import HwConfig, HwShape, _banner, generate, shape_from_config
from neurocal.hw.regmap import memory_crc
from neurocal.hw.sources import rtl_dir, rtl_source_hash, rtl_sources
from neurocal.intnet import IntNetwork


@dataclass
class RtlCosim:
    """A built ``nc_top`` holding a network; cocotb tests run in ``run_dir`` (its ``mem`` links the memories)."""

    built: simulators.SimBuild
    run_dir: Path

    def run(self, module: str, env: dict[str, str]) -> None:
        simulators.run(self.built, module, test_dir=self.run_dir, extra_env=env)


class RtlCore:
    """``nc_top`` from ``hw/rtl``, generated per network and shape by :mod:`neurocal.hw.generate`."""

    name = "rtl"

    def board_shape(self, net: IntNetwork, words: int) -> HwShape:
        return shape_from_config(net, HwConfig(words=words))

    def shape_to_dict(self, shape: HwShape) -> dict[str, Any]:
        return dataclasses.asdict(shape)

    def shape_from_dict(self, values: dict[str, Any]) -> HwShape:
        return HwShape(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    def check(self, net: IntNetwork, shape: HwShape, where: str) -> None:
        shape.check(net, where)

    def write_project(self, net: IntNetwork, shape: HwShape, out: Path, command: str) -> CoreProject:
        project = generate(net, out, HwConfig(words=shape.words), shape=shape, command=command)
        headers = sorted(rtl_dir().glob("*.vh"))
        sources = rtl_sources()
        for path in [*headers, *sources]:
            shutil.copyfile(path, out / path.name)
        return CoreProject(
            sources=[p.name for p in sources],
            headers=sorted([p.name for p in headers] + [p.name for p in project.headers]),
            memories=sorted(p.relative_to(out).as_posix() for p in project.mem_dir.iterdir()),
            top=f"{cosim.TOPLEVEL}.v",
        )

    def source_hash(self) -> int:
        return rtl_source_hash()

    def memory_crc(self, net: IntNetwork, shape: HwShape) -> int:
        return memory_crc(net, shape)

    def memory_writes(self, net: IntNetwork, shape: HwShape) -> list[dict[str, Any]]:
        return cosim.axil_writes(net, shape)

    def decode(self, net: IntNetwork, words: np.ndarray, input_shape: tuple[int, ...], backend: str) -> BackendResult:
        return cosim.decode_result(net, words, input_shape, backend)

    def cosim(self, net: IntNetwork, shape: HwShape, *, sim: str, build_root: Path) -> RtlCosim:
        project, built = cosim.prepare(net, sim, Path(build_root).resolve(), shape=shape)
        run_dir = built.build_dir / "driver-run"
        run_dir.mkdir(parents=True, exist_ok=True)
        cosim.link_memories(project, run_dir)  # nc_params.vh names the memory folder relative to the run
        return RtlCosim(built, run_dir)

    def banner(self, command: str, comment: str) -> str:
        return _banner(command, comment)
