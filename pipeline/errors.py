"""Specific exception types, caught at the batch boundary and turned into messages or quarantine."""


class CenbError(Exception):
    """Base class: every error the pipeline raises on purpose."""


class ConfigError(CenbError):
    """params.yaml (or another config file) is missing, malformed or has unknown keys."""


class LabelDataError(CenbError):
    """A labels/ file has an unknown key, a malformed row or a duplicate id."""


class ModelNotTrainedError(CenbError):
    """No trained model under models/: run `cenb train` first."""


class InputFormatError(CenbError):
    """An input file for predict/evaluate/review is not in the expected shape."""


class ExtractionError(CenbError):
    """A file could not be turned into paragraphs; carries a quarantine reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class ReviewError(CenbError):
    """A review sheet holds decisions that cannot be applied (unknown key, missing id...)."""
