"""neurocal.hw"""
