"""Samples of the identity area's conductor messages (merged into samples.MESSAGE_SAMPLES)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from schemas.base import Message
from schemas.identity import Project, Role, User
from schemas.messages import conductor_identity as ci
from schemas.messages import conductor_identity_admin as ia

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
TOKEN = "t" * 43
INFO = ci.TokenInfo(
    user=ci.NamedRef(id=UUID(int=1), name="demo"),
    project=ci.NamedRef(id=UUID(int=2), name="demo"),
    roles=(ci.NamedRef(id=UUID(int=3), name="member"),),
    issued_at=NOW,
    expires_at=NOW + timedelta(hours=1),
    audit_ids=("abc",),
)


def messages() -> list[Message]:
    return [
        ci.Authenticate(user_name="demo", password="secret", project_name="demo"),
        ci.AuthenticateReply(token=TOKEN, info=INFO),
        ci.ValidateToken(token=TOKEN),
        ci.ValidateTokenReply(info=INFO),
        ci.RevokeToken(token=TOKEN),
        *admin_messages(),
    ]


PROJECT = Project(id=UUID(int=2), name="demo", description="the demo project")
USER = User(id=UUID(int=1), name="demo", email="demo@example.org", default_project_id=UUID(int=2))
ROLE = Role(id=UUID(int=3), name="member", immutable=True)
GRANT = ia.RoleGrant(project_id=UUID(int=2), user_id=UUID(int=1), role_id=UUID(int=3))


def admin_messages() -> list[Message]:
    """Identity administration: projects, users, roles and assignments."""
    return [
        ia.CreateProject(name="demo", description="the demo project"),
        ia.ProjectReply(project=PROJECT),
        ia.ListProjects(name="demo", enabled=True, user_id=UUID(int=1)),
        ia.ListProjectsReply(projects=(PROJECT,)),
        ia.ShowProject(project_id=UUID(int=2)),
        ia.UpdateProject(project_id=UUID(int=2), enabled=False),
        ia.DeleteProject(project_id=UUID(int=2)),
        ia.CreateUser(name="demo", password="secret", default_project_id=UUID(int=2)),
        ia.UserReply(user=USER),
        ia.ListUsers(name="demo"),
        ia.ListUsersReply(users=(USER,)),
        ia.ShowUser(user_id=UUID(int=1)),
        ia.UpdateUser(user_id=UUID(int=1), password="new secret", enabled=False),
        ia.DeleteUser(user_id=UUID(int=1)),
        ia.ChangePassword(user_id=UUID(int=1), original_password="secret", password="new"),
        ia.CreateRole(name="operator", description="runs things"),
        ia.RoleReply(role=ROLE),
        ia.ListRoles(name="member", user_id=UUID(int=1), project_id=UUID(int=2)),
        ia.ListRolesReply(roles=(ROLE,)),
        ia.ShowRole(role_id=UUID(int=3)),
        ia.UpdateRole(role_id=UUID(int=3), description="members"),
        ia.DeleteRole(role_id=UUID(int=3)),
        ia.GrantRole(grant=GRANT),
        ia.RevokeRole(grant=GRANT),
        ia.CheckRole(grant=GRANT),
        ia.ListRoleAssignments(project_id=UUID(int=2)),
        ia.ListRoleAssignmentsReply(
            assignments=(
                ia.Assignment(
                    role=ci.NamedRef(id=UUID(int=3), name="member"),
                    user=ci.NamedRef(id=UUID(int=1), name="demo"),
                    project=ci.NamedRef(id=UUID(int=2), name="demo"),
                ),
            )
        ),
    ]
