"""The clouds.yaml that `skymesh up` writes, so that openstacksdk, the `openstack` CLI,
Ansible and Terraform reach the local gateway with no further setup:

    export OS_CLIENT_CONFIG_FILE=$PWD/.skymesh/clouds.yaml OS_CLOUD=skymesh
    openstack server list

Two clouds: `skymesh`, the member `demo` of project demo, and `skymesh-admin`, the
admin of project admin (the users `skymesh seed` creates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from conductor.seed import USERS

CLOUDS = (("skymesh", "demo"), ("skymesh-admin", "admin"))


def clouds(public_url: str, region: str) -> dict[str, Any]:
    passwords = {user: (project, password) for user, project, _role, password in USERS}
    entries = {}
    for cloud, user in CLOUDS:
        project, password = passwords[user]
        entries[cloud] = {
            "auth": {
                "auth_url": public_url.rstrip("/") + "/identity/v3",
                "username": user,
                "password": password,
                "project_name": project,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": region,
            "interface": "public",
            "identity_api_version": 3,
        }
    return {"clouds": entries}


def write_clouds_yaml(home: Path, public_url: str, region: str) -> Path:
    """Write `home/clouds.yaml` (readable by its owner only: it holds passwords)."""
    path = (home / "clouds.yaml").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(clouds(public_url, region), sort_keys=False))
    path.chmod(0o600)
    return path
