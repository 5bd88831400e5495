"""Configuration: YAML in configs/ loads; unknown keys and bad values are errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from planning.config import RunConfig, load_config, parse_config
from planning.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("name", ["demo.yaml", "production.yaml"])
def test_shipped_configs_load(name: str) -> None:
    config = load_config(CONFIGS / name)
    assert config.horizon.weeks == 26
    assert config.solver.time_limit_s > 0


def test_demo_config_equals_the_defaults() -> None:
    # The demo YAML documents every default; if they drift apart one of them is lying.
    assert load_config(CONFIGS / "demo.yaml") == RunConfig()


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'solver\.time_limt_s'"):
        parse_config({"solver": {"time_limt_s": 10}})


def test_unknown_top_level_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'horizn'"):
        parse_config({"horizn": {"weeks": 3}})


def test_bad_value_is_named() -> None:
    with pytest.raises(ConfigError, match=r"'solver\.mip_rel_gap'"):
        parse_config({"solver": {"mip_rel_gap": -1}})


def test_negative_fx_rate_is_rejected() -> None:
    with pytest.raises(ConfigError, match="fx rates must be positive"):
        parse_config({"costs": {"fx_rates": {"EUR": 0}}})


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("horizon: [weeks: 3\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_config_hash_changes_with_settings() -> None:
    base = RunConfig()
    assert base.config_hash() == RunConfig().config_hash()
    assert base.config_hash() != parse_config({"horizon": {"weeks": 13}}).config_hash()
