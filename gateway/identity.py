"""(filled in by its API area; see gateway/app.py)"""

from __future__ import annotations

from gateway.routing import Routes

routes = Routes("identity")
