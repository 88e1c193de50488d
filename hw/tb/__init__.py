"""cocotb testbenches (run inside the simulator by :func:`neurocal.hw.simulators.run`).

Each testbench reads its stimulus and expected values from files named by environment variables
(set by the caller, who computes them with the golden model) and writes its first divergence to
``$NC_TB_REPORT`` before failing.
"""
