"""Settings: the shipped file documents every default, and mistakes are caught."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from crawler.config import ConfigError, Settings, load_settings

SHIPPED = Path(__file__).parent.parent / "config" / "crawler.toml"


def test_shipped_config_states_exactly_the_defaults():
    loaded = load_settings(SHIPPED)
    assert loaded == Settings(base_dir=SHIPPED.parent)


def test_every_setting_is_in_the_shipped_file_with_a_comment():
    text = SHIPPED.read_text(encoding="utf-8")
    for section, values in vars(Settings()).items():
        if section == "base_dir":
            continue
        assert f"\n[{section}]\n" in text
        # Only this section's part of the file: [check] and [archive] share key names.
        table = "\n" + text.split(f"\n[{section}]\n", 1)[1].split("\n[", 1)[0]
        for name, value in vars(values).items():
            if isinstance(value, dict):  # a table of tables, shown as a commented example
                assert f'# [{section}.{name}."' in table, f"{section}.{name} is not in the shipped file"
                continue
            hint = typing.get_type_hints(type(values))[name]
            if typing.get_origin(hint) is tuple and dataclasses.is_dataclass(typing.get_args(hint)[0]):
                # an array of tables, shown as a commented example
                assert f"# [[{section}.{name}]]" in table, f"{section}.{name} is not in the shipped file"
                continue
            before = table.split(f"\n{name} = ", 1)
            assert len(before) == 2, f"{section}.{name} is not in the shipped file"
            assert before[0].rstrip().splitlines()[-1].startswith("#"), f"{section}.{name} has no comment"


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    config = tmp_path / "crawler.toml"
    config.write_text('[inputs]\npaths = ["lists"]\n', encoding="utf-8")
    assert load_settings(config).default_inputs() == [str(tmp_path / "lists")]


@pytest.mark.parametrize(("toml", "message"), [
    ("[inputs]\nmax_file_bytes = \"big\"\n", "expected int"),
    ("[inputs]\npaths = \"references\"\n", "expected a list"),
    ("[nonsense]\n", "unknown setting “nonsense”"),
    ("[inputs\n", "not valid TOML"),
    ("[archive]\nsave_timeout = inf\n", "archive: save_timeout: expected a finite number, got inf"),
    ("[archive]\ntimeout = nan\n", "archive: timeout: expected a finite number, got nan"),
    ("[check]\ntimeout = -inf\n", "check: timeout: expected a finite number, got -inf"),
    ("[check]\ngive_up_after = -1\n", "give_up_after must not be negative"),
    ("[archive]\nbreaker_cooldown = -600\n", r"\[archive\] breaker_cooldown must not be negative, not -600"),
    ("[archive]\npause_after_429 = -1.5\n", r"\[archive\] pause_after_429 must not be negative"),
    ("[archive]\nretry_after_cap = -1\n", r"\[archive\] retry_after_cap must not be negative"),
    ("[check]\ndelay = -0.5\n", r"\[check\] delay must not be negative"),
    ("[check.hosts.\"www.mofa.go.jp\"]\ndelay = -2\n", r"\[check.hosts.\"www.mofa.go.jp\"\] delay must not be negative"),
])
def test_config_mistakes_are_named(tmp_path, toml, message):
    config = tmp_path / "crawler.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_without_a_config_file_paths_resolve_as_in_the_repository_layout(tmp_path, monkeypatch):
    from crawler.config import load_settings

    monkeypatch.chdir(tmp_path)
    settings = load_settings(None)
    assert settings.reports_dir().resolve() == (tmp_path / "reports").resolve()
    assert settings.store_path().resolve() == (tmp_path / "config" / "state" / "crawler.sqlite3").resolve()
    assert [Path(p).resolve() for p in settings.default_inputs()] == [(tmp_path / "config" / "references").resolve()]
