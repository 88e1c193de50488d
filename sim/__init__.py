"""neurocal.sim"""
