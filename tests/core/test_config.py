"""Config loading: the DESIGN example loads as it stands; errors name file, key, expectation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import ConfigError, load_config
from app.resources import data_dir

DESIGN_EXAMPLE = """
[brand]
name = "Acme"
accounts = ["@acme@mastodon.example", "acme.bsky.social"]

[[topics]]
name = "acme"
kind = "brand"                      # brand | competitor | industry | campaign
query = 'acme OR #acme OR "acme phone" NOT hiring'

[[topics]]
name = "globex"
kind = "competitor"
query = "globex OR #globex"

[[sources]]
name = "mastodon"
type = "mastodon"
base_url = "https://mastodon.example"
hashtags = ["acme", "globex"]
token_env = "WATCHFLOOR_MASTODON_TOKEN"   # the secret's name, never the secret
interval_s = 30

[[sources]]
name = "bluesky"
type = "bluesky"
base_url = "https://bsky.social"
queries = ["acme", "globex"]
handle = "acme.bsky.social"
password_env = "WATCHFLOOR_BLUESKY_APP_PASSWORD"

[[sources]]
name = "globex-news"
type = "rss"
url = "https://globex.example/press.xml"

[[sources]]
name = "demo"
type = "demo"
rate_per_minute = 120
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_design_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, DESIGN_EXAMPLE))
    assert [s.type for s in config.sources] == ["mastodon", "bluesky", "rss", "demo"]
    assert config.sources[0].interval_s == 30
    assert config.topic("globex").kind == "competitor"  # type: ignore[union-attr]


def test_shipped_configs_load() -> None:
    for path in sorted(data_dir("config").glob("*.toml")):
        if path.name == "templates.toml":
            continue
        load_config(path)


def test_every_problem_is_reported_with_its_key(tmp_path: Path) -> None:
    text = (
        DESIGN_EXAMPLE.replace("interval_s = 30", 'interval_s = "often"').replace(
            'kind = "competitor"', 'kind = "rival"'
        )
        + '\n[[sources]]\nname = "x"\ntype = "carrier-pigeon"\n\n[wall]\nlayuot = "demo"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    err = info.value
    assert err.path.endswith("config.toml")
    joined = "\n".join(err.problems)
    assert "sources[0].interval_s" in joined and "'often'" in joined
    assert "topics[1].kind" in joined and "brand" in joined
    assert "sources[4]" in joined and "demo, mastodon, bluesky, rss" in joined
    assert "wall.layuot: unknown key" in joined
    assert len(err.problems) == 4
    assert str(tmp_path) in str(err)


def test_query_errors_point_at_the_topic(tmp_path: Path) -> None:
    text = DESIGN_EXAMPLE.replace('query = "globex OR #globex"', 'query = "globex OR (#globex"')
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    (problem,) = info.value.problems
    assert problem.startswith("topics[1].query: query does not parse")
    assert re.search(r"position \d+", problem)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "[brand]\nname = \n"))
    assert "TOML syntax" in info.value.problems[0] and "line 2" in info.value.problems[0]


def test_duplicate_source_names(tmp_path: Path) -> None:
    text = DESIGN_EXAMPLE.replace('name = "globex-news"', 'name = "demo"')
    with pytest.raises(ConfigError, match="used twice"):
        load_config(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")
