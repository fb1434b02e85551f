"""The cleaning kind: the cleaning report itself; its result rows are the file's rows it removed."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from services.analysis.kind_base import AnalysisFrame, AnalysisKind, Computed, ResultStorage

REMOVED_ROWS_FILE = "removed.parquet"  # positions (1-based) and reasons of the removed rows; the rows stay in the file


class CleaningKind(AnalysisKind):
    """Runs every rule with alerts and reports; the removed rows are read back from the file's copy."""

    name = "cleaning"
    purpose = "cleaning"
    reports_cleaning = True
    storage = ResultStorage.REMOVED_ROWS

    def compute(self, frame: AnalysisFrame, params: None) -> Computed:
        """The cleaning summary, and the removed rows' positions and reasons as an artifact."""
        cleaned = frame.cleaning
        reasons = cleaned.reasons.dropna() if cleaned else pd.Series([], dtype="string")
        removed = pd.DataFrame({"row": reasons.index.to_numpy() + 1, "reason": reasons.to_numpy()})
        summary = cleaned.summary if cleaned else {"rows_in": len(frame.view), "rows_out": len(frame.view),
                                                   "removed": {}}
        return Computed(summary, artifacts={REMOVED_ROWS_FILE: lambda path: _write(removed, path)})


def _write(removed: pd.DataFrame, path: Path) -> None:
    removed.to_parquet(path, index=False)


KIND = CleaningKind()
