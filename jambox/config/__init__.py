"""Typed, declarative configuration: one TOML file over a shipped default, validated as a whole."""

from jambox.config.load import Config, load_config

__all__ = ["Config", "load_config"]
