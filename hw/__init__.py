"""neurocal.hw: the event-driven LIF accelerator in Verilog (``rtl/``, package data), its parameter
generator, cocotb testbenches (``tb/``) and simulator runners (Icarus Verilog, Verilator)."""
