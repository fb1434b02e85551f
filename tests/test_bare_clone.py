"""A checkout with nothing beside it (no ../shared) runs the tests that need real data as clean skips."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(".git", ".venv", "uploads", "instance", "out", "__pycache__", ".pytest_cache",
                                 ".ruff_cache")


def test_real_data_tests_skip_with_a_reason_without_shared(tmp_path):
    checkout = tmp_path / "alone" / "repo"  # tmp/alone/shared does not exist
    shutil.copytree(REPO, checkout, ignore=IGNORED)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/api/test_upload_api.py",
         "tests/api/test_analyses_api.py", "tests/api/test_public_exports.py", "-k", "sample or public or superstore"],
        cwd=checkout, capture_output=True, text=True, timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "skipped" in result.stdout and "failed" not in result.stdout and "error" not in result.stdout.lower()
    assert "../shared beside the checkout" in result.stdout
