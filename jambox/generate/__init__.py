"""The generator: the step model (model.py, features.py) and the runtime that samples from it."""

from jambox.generate.model import StepModel, StepOutputs, load_model

__all__ = ["StepModel", "StepOutputs", "load_model"]
