"""Find, read, merge and validate the configuration; every problem is reported at once."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any, Iterable

from jambox.config.schema import SCHEMA
from jambox.errors import ConfigError, did_you_mean

DEFAULT_FILE = Path(__file__).with_name("default.toml")
SYSTEM_FILE = Path("/etc/jambox/jambox.toml")


def user_config_file() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("jambox")) / "jambox.toml"


class Config:
    """The effective configuration: ``cfg.audio.sample_rate``; ``cfg.sources`` lists the files read."""

    def __init__(self, values: dict[str, dict[str, Any]], sources: list[str]):
        self._values = {s: MappingProxyType(dict(v)) for s, v in values.items()}
        self.sources = list(sources)
        for section, vals in self._values.items():
            setattr(self, section, SimpleNamespace(**vals))

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {s: dict(v) for s, v in self._values.items()}

    def with_overrides(self, overrides: dict[str, dict[str, Any]], source: str = "overrides") -> "Config":
        merged = self.as_dict()
        problems = _merge(merged, overrides, source)
        if problems:
            raise ConfigError(problems, source)
        return Config(merged, self.sources + [source])

    def to_toml(self) -> str:
        lines = []
        for section, fields in SCHEMA.items():
            lines.append(f"[{section}]")
            for key, field in fields.items():
                lines.append(f"# {field.doc} ({field.allowed()})")
                lines.append(f"{key} = {_toml_value(self._values[section][key])}")
            lines.append("")
        return "\n".join(lines)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def defaults() -> dict[str, dict[str, Any]]:
    return {s: {k: f.default for k, f in fields.items()} for s, fields in SCHEMA.items()}


def _merge(into: dict[str, dict[str, Any]], data: dict[str, Any], source: str) -> list[str]:
    problems: list[str] = []
    for section, table in data.items():
        if section not in SCHEMA:
            problems.append(f"unknown section [{section}]{did_you_mean(section, list(SCHEMA))}; "
                            f"expected one of: {', '.join(SCHEMA)}")
            continue
        if not isinstance(table, dict):
            problems.append(f"[{section}] must be a table, not {table!r}")
            continue
        fields = SCHEMA[section]
        for key, value in table.items():
            if key not in fields:
                problems.append(f"unknown key {section}.{key}{did_you_mean(key, list(fields))}")
                continue
            v, err = fields[key].check(f"{section}.{key}", value)
            if err:
                problems.append(err)
            else:
                into[section][key] = v
    return problems


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from None


def search_path() -> list[Path]:
    return [SYSTEM_FILE, user_config_file()]


def load_config(path: str | Path | None = None, *, search: Iterable[Path] | None = None) -> Config:
    """The shipped defaults, then the system and user files (or only ``path`` if given), validated."""
    values = defaults()
    sources = [str(DEFAULT_FILE)]
    files = [Path(path)] if path is not None else [p for p in (search if search is not None else search_path()) if p.is_file()]
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"config file {path} does not exist")
    problems: list[str] = []
    for f in files:
        problems += [f"{f}: {p}" for p in _merge(values, _read(f), str(f))]
        sources.append(str(f))
    if problems:
        raise ConfigError(problems)
    return Config(values, sources)


def parse_set(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``section.key=value`` strings (TOML values) into an overrides table."""
    out: dict[str, dict[str, Any]] = {}
    problems = []
    for item in items:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            problems.append(f"override {item!r} must look like section.key=value")
            continue
        dotted, raw = item.split("=", 1)
        section, key = dotted.strip().split(".", 1)
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        out.setdefault(section, {})[key] = value
    if problems:
        raise ConfigError(problems)
    return out
