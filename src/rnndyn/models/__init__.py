"""RNN families of the study behind one string-keyed factory.

``build_model("lstm", input_size=1, hidden_size=64, output_size=1, generator=g)`` returns a
:class:`RecurrentModel`: ``forward`` (teacher-forced, fused kernels), ``step`` (one step of the
map on the full state, for Jacobians), ``readout``, ``initial_state``, ``state_size``,
``closed_loop_jacobian``. Families: Elman-type (``vanilla``, ``leaky``, ``orthogonal``,
``spectral``, ``linear``), gated (``lstm``, ``gru``) and the clipped shallow PLRNN (``shplrnn``).
:func:`closed_loop` runs a model autonomously on its own predictions.
"""

from rnndyn.models.base import RecurrentModel
from rnndyn.models.elman import ElmanRNN, SpectralNormBound
from rnndyn.models.gated import GRUModel, LSTMModel
from rnndyn.models.plrnn import ShallowPLRNN
from rnndyn.models.registry import MODELS, build_model
from rnndyn.models.rollout import closed_loop

__all__ = [
    "MODELS",
    "ElmanRNN",
    "GRUModel",
    "LSTMModel",
    "RecurrentModel",
    "ShallowPLRNN",
    "SpectralNormBound",
    "build_model",
    "closed_loop",
]
