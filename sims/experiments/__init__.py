"""Experiments: each module here registers one with ``sims.registry.register``."""
