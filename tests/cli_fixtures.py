"""Run the `olx-spark` command line in a test against the test's own warehouse."""

from __future__ import annotations

from pathlib import Path

from olx_spark.config import Config


def config_file(config: Config, folder: Path) -> str:
    """A TOML file for the command line with the test's warehouse and schema."""
    toml = folder / "conf.toml"
    toml.write_text(
        f'[warehouse]\ndir = "{config.warehouse.dir}"\nraw_schema = "{config.warehouse.raw_schema}"'
        f'\n[spark]\nmaster = "{config.spark.master}"\n',
        encoding="utf-8",
    )
    return str(toml)
