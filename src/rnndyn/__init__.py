"""Recurrent neural networks as dynamical systems: the library behind the study pipeline.

Every piece of science lives here and is importable without Snakemake; the workflow's
scripts are thin adapters around it.
"""

__version__ = "0.1.0"
