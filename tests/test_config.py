"""params.yaml is read into one validated object: typos and bad values are errors, not defaults."""

from pathlib import Path

import pytest

from pipeline.config import DEFAULT_PARAMS, Settings, load_settings
from pipeline.errors import ConfigError


def test_project_params_load_and_resolve_relative_to_the_file() -> None:
    settings = load_settings(DEFAULT_PARAMS)
    assert isinstance(settings, Settings)
    assert settings.models_dir == DEFAULT_PARAMS.parent / "models"
    assert settings.extract.workers >= 1


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("extract:\n  max_file_mbb: 3\n")
    with pytest.raises(ConfigError, match=r"extract\.max_file_mbb"):
        load_settings(params)


def test_unknown_section_is_an_error(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("extrakt:\n  workers: 1\n")
    with pytest.raises(ConfigError, match="extrakt"):
        load_settings(params)


def test_out_of_range_value_is_an_error(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("extract:\n  workers: 0\n")
    with pytest.raises(ConfigError, match="workers"):
        load_settings(params)


def test_invalid_yaml_and_missing_file_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "params.yaml"
    bad.write_text("extract: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_paths_resolve_against_a_params_file_elsewhere(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("paths:\n  cache_dir: cache\n  mlflow_tracking_uri: sqlite:///ml.db\n")
    settings = load_settings(params)
    assert settings.cache_dir == tmp_path / "cache"
    assert settings.mlflow_tracking_uri == f"sqlite:///{tmp_path / 'ml.db'}"


def test_a_params_file_in_the_working_directory_wins(tmp_path: Path, monkeypatch) -> None:
    """`dvc repro` in a copy of the project must use the copy's params, labels and models."""
    (tmp_path / "params.yaml").write_text("classify:\n  cv_folds: 3\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.classify.cv_folds == 3
    assert settings.labels_dir == tmp_path / "labels"
