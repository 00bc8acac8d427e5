"""Settings from TOML (``config/crawler.toml``), each with a default in code.

The shipped file lists every key with its default; a test keeps the two equal.
Unknown keys and wrong types are errors, so a typo never silently means "default".
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from crawler.archive.settings import ArchiveSettings
from crawler.check.settings import CheckSettings
from crawler.extract import DEFAULT_EXTENSIONS, DEFAULT_MAX_FILE_BYTES
from crawler.store.settings import HistorySettings, StoreSettings

CONFIG_ENV = "CRAWLER_CONFIG"
DEFAULT_CONFIG = Path("config/crawler.toml")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class InputSettings:
    """[inputs]: where the reference lists are and how they are read."""

    paths: tuple[str, ...] = ("references",)
    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    encoding: str = "auto"


@dataclass(frozen=True)
class ReportSettings:
    """[report]: the report's format and what makes the exit code 1."""

    format: str = "markdown"
    fail_on: tuple[str, ...] = ("dead", "truncated")


@dataclass(frozen=True)
class RunSettings:
    """`crawler run`, the scheduled job."""

    reports: str = "../reports"  # relative to the config file: config/ → the repository's reports/
    fail_on: tuple[str, ...] = ("new-dead",)


@dataclass(frozen=True)
class Settings:
    """Every table of the config file, and the directory its relative paths start from."""

    inputs: InputSettings = field(default_factory=InputSettings)
    check: CheckSettings = field(default_factory=CheckSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    run: RunSettings = field(default_factory=RunSettings)
    # The directory relative input paths are resolved against (the config file's).
    base_dir: Path = Path(".")

    def default_inputs(self) -> list[str]:
        return [str(self.base_dir / p) if not Path(p).is_absolute() else p for p in self.inputs.paths]

    def reports_dir(self) -> Path:
        """Where `crawler run` writes its reports: [run] reports, relative to the config file's directory."""
        path = Path(self.run.reports).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def store_path(self) -> Path:
        """The history database: [store] path, relative to the config file's directory."""
        path = Path(self.store.path).expanduser()
        return path if path.is_absolute() else self.base_dir / path


def find_config(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_settings(path: Path | None) -> Settings:
    if path is None:
        # No config file: relative defaults resolve as if it were config/crawler.toml
        # (inputs config/references/, the store in config/state/, reports in reports/).
        return Settings(base_dir=DEFAULT_CONFIG.parent)
    import tomllib  # here, not at the top: a run without a config file does not need it

    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    settings = _build(Settings, data, f"{path}", exclude={"base_dir"})
    wrong = settings.history.problems() + _negative_numbers(settings)
    if wrong:
        raise ConfigError(f"{path}: {wrong[0]}")
    return dataclasses.replace(settings, base_dir=path.parent)


def _negative_numbers(settings: Settings) -> list[str]:
    """Every count, size and number of seconds must be 0 or more: a negative wait or limit has no meaning."""
    sections = [(f"[{name}]", getattr(settings, name)) for name in ("inputs", "check", "archive", "store", "run")]
    sections += [(f"[check.hosts.\"{host}\"]", override) for host, override in settings.check.hosts.items()]
    wrong = []
    for where, section in sections:
        for f in fields(section):
            value = getattr(section, f.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                hint = " (0 asks every link)" if f.name == "give_up_after" else ""
                wrong.append(f"{where} {f.name} must not be negative{hint}, not {value}")
    return wrong


def _build(cls: type, data: Any, where: str, exclude: frozenset[str] | set[str] = frozenset()) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)} - set(exclude)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting “{unknown[0]}” (known: {', '.join(sorted(known))})")
    values = {name: _convert(hints[name], value, f"{where}: {name}") for name, value in data.items()}
    try:
        return cls(**values)
    except ValueError as exc:  # a value the settings themselves refuse (__post_init__)
        raise ConfigError(f"{where}: {exc}") from None


def _convert(hint: Any, value: Any, where: str) -> Any:
    if is_dataclass(hint):
        return _build(hint, value, where)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        return _convert(next(a for a in args if a is not type(None)), value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list")
        return tuple(_convert(args[0], v, where) for v in value)
    if origin is dict and args and is_dataclass(args[1]):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table")
        return {str(k): _build(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table")
        return {str(k): _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if (hint is int and isinstance(value, bool)) or not isinstance(value, hint):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {type(value).__name__} {value!r}")
    if hint is float and not math.isfinite(value):
        # TOML has inf and nan: a timeout of inf (or nan, which every comparison calls small
        # enough) is a wait without end, and a pace of nan paces nothing.
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    return value
