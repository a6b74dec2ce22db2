"""The review tests use the report tests' fixtures (same realistic sample contributions)."""

import importlib.util
from pathlib import Path

_path = Path(__file__).parents[1] / "report" / "conftest.py"
_spec = importlib.util.spec_from_file_location("cenb_report_test_fixtures", _path)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

specs = _mod.specs
make_input = _mod.make_input
encode_tfidf = _mod.encode_tfidf
settings_for = _mod.settings_for
finder = _mod.finder
minilm = _mod.minilm
TFIDF_THRESHOLD = _mod.TFIDF_THRESHOLD
