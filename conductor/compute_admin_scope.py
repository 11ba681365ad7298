"""Who may do what in the compute catalog and operator APIs, checked in the conductor
whatever the gateway already checked."""

from __future__ import annotations

from uuid import UUID

from corebus.envelope import RequestContext
from schemas.errors import Forbidden


def require_admin(ctx: RequestContext, what: str) -> None:
    """Operator calls are refused to anyone but an admin."""
    if not ctx.is_admin:
        raise Forbidden(f"Policy doesn't allow {what} (admin only).")


def caller_of(ctx: RequestContext) -> tuple[UUID, UUID]:
    """(project, user) of a user-facing request; refused without both."""
    if ctx.project_id is None or ctx.user_id is None:
        raise Forbidden("this request needs a user and a project")
    return ctx.project_id, ctx.user_id
