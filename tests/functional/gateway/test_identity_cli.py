"""The real `openstack` CLI manages identity against the in-process cloud: project and
user create, role add, role assignment list with names, user and project delete."""

from __future__ import annotations

import uuid

from tests.functional.gateway.cli import cli_as
from tests.functional.gateway.cloud import Cloud

openstack, as_json = cli_as("admin")


async def test_openstack_cli_manages_projects_users_and_roles(cloud: Cloud) -> None:
    suffix = uuid.uuid4().hex[:8]
    project, user = f"cli-proj-{suffix}", f"cli-user-{suffix}"
    created = await as_json(cloud, "project", "create", project, "--description", "from the CLI")
    assert created["name"] == project and created["domain_id"] == "default"
    made = await as_json(
        cloud, "user", "create", user, "--password", "cli-secret", "--project", project
    )
    assert made["default_project_id"] == created["id"]
    await openstack(cloud, "role", "add", "--project", project, "--user", user, "member")
    rows = await as_json(cloud, "role", "assignment", "list", "--project", project, "--names")
    assert [(r["Role"], r["User"], r["Project"]) for r in rows] == [
        ("member", f"{user}@Default", f"{project}@Default")
    ]
    token = await cloud.request(
        "POST",
        "/identity/v3/auth/tokens",
        json={
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": user, "password": "cli-secret"}},
                },
                "scope": {"project": {"name": project}},
            }
        },
    )
    assert token.status == 201, token
    await openstack(cloud, "user", "delete", user)
    await openstack(cloud, "project", "delete", project)
    left = await cloud.request("GET", f"/identity/v3/projects?name={project}", cloud.admin)
    assert left.body["projects"] == []
