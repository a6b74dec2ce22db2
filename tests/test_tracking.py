"""MLflow provenance tags: git commit and the DVC hashes dvc.lock records for a stage's inputs."""

from pipeline import PROJECT_ROOT
from pipeline.tracking import dvc_input_hashes, run_tags


def test_train_stage_inputs_are_hashed_like_dvc_does() -> None:
    tags = dvc_input_hashes("train", PROJECT_ROOT)
    assert "dvc.error" not in tags
    assert tags["dvc.train.labels"].endswith(".dir")
    assert len(tags["dvc.train.labels"]) == len("0" * 32 + ".dir")
    assert "dvc.train.params.yaml" in tags


def test_run_tags_include_the_commit_when_in_a_checkout() -> None:
    tags = run_tags("train", PROJECT_ROOT)
    if (PROJECT_ROOT / ".git").exists():
        assert len(tags["git_commit"]) == 40


def test_no_dvc_yaml_means_no_tags(tmp_path) -> None:
    assert dvc_input_hashes("train", tmp_path) == {}
