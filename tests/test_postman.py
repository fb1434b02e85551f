"""The committed Postman collection is the one postman/generate.py makes from this build's spec."""
from __future__ import annotations

import subprocess
import sys

from tests.e2e.servers import REPO


def test_the_committed_collection_is_up_to_date():
    result = subprocess.run([sys.executable, "postman/generate.py", "--check"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"run `make postman`: {result.stderr[-2000:]}"
