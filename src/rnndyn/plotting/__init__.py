"""Figures of the study: one seaborn theme, every figure saved as PDF and PNG."""

from rnndyn.plotting.theme import save_figure, set_theme

__all__ = ["save_figure", "set_theme"]
