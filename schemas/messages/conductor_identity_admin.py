"""Conductor RPC: identity administration (Keystone's projects, users, roles and role
assignments).

Managing projects, users and roles is for admins; a user may also read itself, change
its own password and list the projects it has a role on. Passwords travel to the
conductor, which hashes them; hashes never travel back.
"""

from __future__ import annotations

from typing import Annotated, Self
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from schemas.base import Message, Model
from schemas.identity import Project, Role, RoleName, User
from schemas.messages.conductor_identity import NamedRef
from schemas.types import Description, Name

Password = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class CreateProject(Message):
    message_name = "conductor.create_project"
    message_version = 1

    name: Name
    description: Description = ""
    enabled: bool = True


class ProjectReply(Message):
    message_name = "conductor.project.reply"
    message_version = 1

    project: Project


class ListProjects(Message):
    """Every project (admins), or with `user_id` the projects that user has a role on
    (a user may ask for its own); `name` and `enabled` filter exactly."""

    message_name = "conductor.list_projects"
    message_version = 1

    name: str | None = Field(None, min_length=1, max_length=255)
    enabled: bool | None = None
    user_id: UUID | None = None


class ListProjectsReply(Message):
    message_name = "conductor.list_projects.reply"
    message_version = 1

    projects: tuple[Project, ...] = ()


class ShowProject(Message):
    """One project: admins see any, a user the project its token is scoped to."""

    message_name = "conductor.show_project"
    message_version = 1

    project_id: UUID


class UpdateProject(Message):
    """Change the given fields (None leaves a field as it is)."""

    message_name = "conductor.update_project"
    message_version = 1

    project_id: UUID
    name: Name | None = None
    description: Description | None = None
    enabled: bool | None = None


class DeleteProject(Message):
    """Delete a project that owns no servers, volumes, networks, ports, routers or
    floating IPs any more (Conflict names what remains)."""

    message_name = "conductor.delete_project"
    message_version = 1

    project_id: UUID


class CreateUser(Message):
    """A user; without a password it exists but cannot authenticate (as in Keystone)."""

    message_name = "conductor.create_user"
    message_version = 1

    name: Name
    password: Password | None = None
    email: str | None = Field(None, max_length=255)
    description: Description = ""
    enabled: bool = True
    default_project_id: UUID | None = None


class UserReply(Message):
    message_name = "conductor.user.reply"
    message_version = 1

    user: User


class ListUsers(Message):
    message_name = "conductor.list_users"
    message_version = 1

    name: str | None = Field(None, min_length=1, max_length=255)
    enabled: bool | None = None


class ListUsersReply(Message):
    message_name = "conductor.list_users.reply"
    message_version = 1

    users: tuple[User, ...] = ()


class ShowUser(Message):
    """One user: admins see any, a user itself."""

    message_name = "conductor.show_user"
    message_version = 1

    user_id: UUID


class UpdateUser(Message):
    """Change the given fields (None leaves a field as it is). A new password or
    disabling the user revokes every token it holds."""

    message_name = "conductor.update_user"
    message_version = 1

    user_id: UUID
    name: Name | None = None
    password: Password | None = None
    email: str | None = Field(None, max_length=255)
    description: Description | None = None
    enabled: bool | None = None
    default_project_id: UUID | None = None


class DeleteUser(Message):
    """Delete a user: its role assignments and tokens go with it."""

    message_name = "conductor.delete_user"
    message_version = 1

    user_id: UUID


class ChangePassword(Message):
    """A user changes its own password, proving it knows the current one; every token
    the user holds is revoked."""

    message_name = "conductor.change_password"
    message_version = 1

    user_id: UUID
    original_password: Password
    password: Password


class CreateRole(Message):
    message_name = "conductor.create_role"
    message_version = 1

    name: RoleName
    description: Description = ""


class RoleReply(Message):
    message_name = "conductor.role.reply"
    message_version = 1

    role: Role


class ListRoles(Message):
    """Every role; `name` filters exactly. With `user_id` and `project_id`, the roles
    that user holds on that project."""

    message_name = "conductor.list_roles"
    message_version = 1

    name: str | None = Field(None, min_length=1, max_length=255)
    user_id: UUID | None = None
    project_id: UUID | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> Self:
        if (self.user_id is None) != (self.project_id is None):
            raise ValueError("give both user_id and project_id, or neither")
        return self


class ListRolesReply(Message):
    message_name = "conductor.list_roles.reply"
    message_version = 1

    roles: tuple[Role, ...] = ()


class ShowRole(Message):
    message_name = "conductor.show_role"
    message_version = 1

    role_id: UUID


class UpdateRole(Message):
    message_name = "conductor.update_role"
    message_version = 1

    role_id: UUID
    name: RoleName | None = None
    description: Description | None = None


class DeleteRole(Message):
    """Delete a role and every assignment of it; built-in roles are refused."""

    message_name = "conductor.delete_role"
    message_version = 1

    role_id: UUID


class RoleGrant(Model):
    """A role of a user on a project, by ids."""

    project_id: UUID
    user_id: UUID
    role_id: UUID


class GrantRole(Message):
    """Give the user the role on the project (idempotent)."""

    message_name = "conductor.grant_role"
    message_version = 1

    grant: RoleGrant


class RevokeRole(Message):
    """Take the role away; tokens lose it at once (validation re-reads the roles)."""

    message_name = "conductor.revoke_role"
    message_version = 1

    grant: RoleGrant


class CheckRole(Message):
    """Does the user hold the role on the project? NotFound when it does not."""

    message_name = "conductor.check_role"
    message_version = 1

    grant: RoleGrant


class ListRoleAssignments(Message):
    """Role assignments, filtered by any of project, user and role."""

    message_name = "conductor.list_role_assignments"
    message_version = 1

    project_id: UUID | None = None
    user_id: UUID | None = None
    role_id: UUID | None = None


class Assignment(Model):
    """One assignment, with the names (Keystone shows them on `include_names`)."""

    role: NamedRef
    user: NamedRef
    project: NamedRef


class ListRoleAssignmentsReply(Message):
    message_name = "conductor.list_role_assignments.reply"
    message_version = 1

    assignments: tuple[Assignment, ...] = ()
