"""neurocal.firmware"""
