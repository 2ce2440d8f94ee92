"""The hostile tests: fuzzing, faults, load, crashes and untrusted content (issue 6).

They hold the server to the contract the server tests already check, so they import the helpers
of ``tests/server/mcp_checks.py`` (a checked ``call_tool``, the seven failure keys) rather than
copying them; shared helpers of their own live in ``hostile_checks.py``.
"""

import sys
from pathlib import Path

# tests/server has no __init__.py: pytest puts it on sys.path only once one of its modules is
# collected, and these tests must also run on their own (pytest tests/hostile).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
