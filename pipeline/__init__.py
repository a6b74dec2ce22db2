"""cenb: from public contributions to a labelled, attributed policy-options report."""

from pathlib import Path

__version__ = "0.1.0"

# The repository root when installed editable (the README's set-up); params.yaml, models/ and
# labels/ are resolved from here unless a params file elsewhere says otherwise.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
