"""The embedded Slices API: the seed's HTTP contract over SQLite, with demo data.

``create_app(db_path)`` returns the Starlette app; ``close_app(app)`` closes its database.
``default_db_path()`` resolves ``--db``'s default. The demo constants live in ``.seed``.
"""

from avala_mcp.embedded.app import app_store, close_app, create_app
from avala_mcp.embedded.paths import default_db_path

__all__ = ["app_store", "close_app", "create_app", "default_db_path"]
