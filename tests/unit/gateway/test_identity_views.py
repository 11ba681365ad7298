"""Identity administration in the gateway without services: Keystone's shapes, the
body models' refusals, query flags, and which routes are admin-only."""

from __future__ import annotations

from uuid import UUID

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from corebus.config import GatewaySettings
from corebus.memory import InMemoryBus
from gateway import identity, identity_roles, identity_users
from gateway.app import build_app
from gateway.errors import HttpError
from gateway.http import parse
from gateway.identity_views import assignment_view, collection, flag, role_view, user_view
from gateway.routing import Access
from schemas.identity import Role, User
from schemas.messages.conductor_identity import NamedRef
from schemas.messages.conductor_identity_admin import Assignment

BASE = "http://gw.example:8780"


def request(path: str = "/identity/v3/projects") -> web.Request:
    app = build_app(GatewaySettings(), InMemoryBus(), BASE)
    return make_mocked_request("GET", path, app=app)


def test_user_view_shows_only_what_is_set_and_never_a_password() -> None:
    user = User(id=UUID(int=1), name="alice")
    shown = user_view(request(), user)
    assert shown["links"]["self"] == f"{BASE}/identity/v3/users/{UUID(int=1)}"
    assert shown["domain_id"] == "default"
    assert not {"email", "default_project_id", "description", "password"} & set(shown)


def test_builtin_roles_show_as_immutable() -> None:
    shown = role_view(request(), Role(id=UUID(int=3), name="admin", immutable=True))
    assert shown["options"] == {"immutable": True} and shown["domain_id"] is None


def test_assignment_names_only_when_asked() -> None:
    assignment = Assignment(
        role=NamedRef(id=UUID(int=3), name="member"),
        user=NamedRef(id=UUID(int=1), name="alice"),
        project=NamedRef(id=UUID(int=2), name="team"),
    )
    bare = assignment_view(request(), assignment, names=False)
    assert bare["user"] == {"id": str(UUID(int=1))}
    named = assignment_view(request(), assignment, names=True)
    assert named["role"] == {"id": str(UUID(int=3)), "name": "member"}
    assert named["scope"]["project"]["domain"] == {"id": "default", "name": "Default"}
    assert named["links"]["assignment"].endswith(
        f"/projects/{UUID(int=2)}/users/{UUID(int=1)}/roles/{UUID(int=3)}"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", None), ("?include_names", True), ("?include_names=0", False), ("?x=1", None)],
)
def test_flags_read_like_keystone(query: str, expected: bool | None) -> None:
    assert flag(request("/identity/v3/role_assignments" + query), "include_names") is expected


def test_collections_link_to_themselves() -> None:
    body = collection(request("/identity/v3/projects?name=a"), "projects", [])
    assert body["links"] == {
        "self": f"{BASE}/identity/v3/projects?name=a",
        "previous": None,
        "next": None,
    }


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (identity.ProjectCreate, {"description": "no name"}),
        (identity.ProjectCreate, {"name": "p", "domain_id": "other"}),
        (identity.ProjectCreate, {"name": "p", "parent_id": "some-project"}),
        (identity.ProjectCreate, {"name": "p", "is_domain": True}),
        (identity.ProjectCreate, {"name": "p", "enabled": "true"}),
        (identity_users.UserCreate, {"name": "u", "password": 12345}),
        (identity_users.UserCreate, {"name": ""}),
        (identity_roles.RoleCreate, {"name": "Upper"}),
        (identity_roles.RoleCreate, {"name": "r", "domain_id": "default"}),
        (identity_users.PasswordChange, {"password": "new"}),
    ],
)
def test_bad_bodies_are_refused_with_400(model: type, data: dict[str, object]) -> None:
    with pytest.raises(HttpError) as refused:
        parse(model, data)
    assert refused.value.status == 400


SELF_SERVICE = {
    ("GET", "/identity/v3/projects/{project_id}"),
    ("GET", "/identity/v3/users/{user_id}"),
    ("POST", "/identity/v3/users/{user_id}/password"),
    ("GET", "/identity/v3/users/{user_id}/projects"),
    ("GET", "/identity/v3/auth/projects"),
    ("GET", "/identity/v3/auth/catalog"),
    ("GET", "/identity/v3/domains"),
    ("GET", "/identity/v3/domains/{domain_id}"),
}


def test_everything_but_self_service_is_admin_only() -> None:
    for module in (identity, identity_users, identity_roles):
        for route in module.routes.routes:
            if (route.method, route.path) in SELF_SERVICE:
                assert route.access is Access.READER, route
            else:
                assert route.access is Access.ADMIN, route
