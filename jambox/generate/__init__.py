"""The generator: the step model (model.py, features.py) and the runtime that samples from it."""

from jambox.generate.generator import Generator
from jambox.generate.model import StepModel, StepOutputs, load_model

__all__ = ["Generator", "StepModel", "StepOutputs", "load_model"]
