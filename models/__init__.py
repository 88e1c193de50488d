"""neurocal.models"""
