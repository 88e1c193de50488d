"""neurocal.fpga"""
