"""Confirm or revert a resize or migration in VERIFY_RESIZE (vm_state resized).

confirm  task resize_confirming, confirm_resize cast to the source; `confirmed` (the
         source dropped its copy): the migration's (source) allocation is freed, the
         instance goes back to active or stopped as it was, instance.resize_confirm.end
revert   task resize_reverting, revert_resize cast to the destination; `reverted` (its
         copy destroyed): the destination allocation is freed, the migration's given
         back to the instance, host and flavor restored, finish_revert_resize cast to
         the source; `revert_finished` (running there again): active or stopped as it
         was, instance.resize_revert.end
"""

from __future__ import annotations

from typing import Any

from conductor import lifecycle
from conductor.db.queries import instance_actions, instances
from conductor.db.queries import migrations as migration_queries
from conductor.db.types import Connection
from conductor.moves import AfterCommit, Casts, MoveDeps, finish_action, refuse
from conductor.resize_quota import settle_on
from conductor.servers import identity
from corebus.envelope import RequestContext
from schemas.compute import Flavor
from schemas.flavor_specs import resource_request
from schemas.messages import conductor_actions as actions
from schemas.messages.agent_devices import ConfirmResize, FinishRevertResize, RevertResize
from schemas.messages.facts import InstanceResized
from schemas.messages.scheduler import RequestSpec


class ResizeVerification:
    def __init__(self, deps: MoveDeps) -> None:
        self._d = deps

    async def start(
        self, conn: Connection, ctx: RequestContext, row: dict[str, Any], action: Any
    ) -> AfterCommit:
        project_id, user_id = identity(ctx)
        confirm = isinstance(action, actions.ConfirmResize)
        verb = "confirm resize of" if confirm else "revert resize of"
        migration = await migration_queries.in_progress(conn, row["id"], for_update=True)
        if (
            row["vm_state"] != "resized"
            or row["task_state"] is not None
            or migration is None
            or migration["status"] != "finished"
        ):
            raise refuse(verb, row)
        await migration_queries.update(  # the confirm's or revert's request from now on
            conn,
            migration["id"],
            status="confirming" if confirm else "reverting",
            request_id=ctx.request_id,
        )
        await instances.update_state(
            conn,
            row["id"],
            task_state="resize_confirming" if confirm else "resize_reverting",
            task_deadline=self._d.deadline(),
        )
        await instance_actions.start_action(
            conn,
            row["id"],
            ctx.request_id,
            "confirmResize" if confirm else "revertResize",
            project_id=project_id,
            user_id=user_id,
        )
        event = "instance.resize_confirm.start" if confirm else "instance.resize_revert.start"
        await lifecycle.emit(conn, event, row["id"], ctx.request_id)
        command: ConfirmResize | RevertResize
        if confirm:
            command, host = (
                ConfirmResize(instance_id=row["id"], migration_id=migration["id"]),
                migration["source_host"],
            )
        else:
            command, host = (
                RevertResize(instance_id=row["id"], migration_id=migration["id"]),
                migration["dest_host"],
            )
        request_id = ctx.request_id

        async def after() -> None:
            await self._d.cast([(host, command)], request_id)

        return after

    async def confirmed(
        self,
        conn: Connection,
        row: dict[str, Any],
        migration: dict[str, Any],
        fact: InstanceResized,
    ) -> Casts:
        if migration["status"] != "confirming" or fact.host != migration["source_host"]:
            return []
        await migration_queries.release_on_host(conn, migration["id"], migration["source_host"])
        if migration["source_host"] != migration["dest_host"]:
            # the instance's PCI devices and NUMA pins on the source
            await migration_queries.release_on_host(conn, row["id"], migration["source_host"])
        await settle_on(conn, row["project_id"], migration, migration["new_flavor"])
        await migration_queries.update(conn, migration["id"], status="confirmed")
        await instances.update_state(
            conn, row["id"], vm_state=migration["old_vm_state"], task_state=None
        )
        await lifecycle.emit(
            conn, "instance.resize_confirm.end", row["id"], migration["request_id"]
        )
        await finish_action(conn, row["id"], migration["request_id"])
        return []

    async def reverted(
        self,
        conn: Connection,
        row: dict[str, Any],
        migration: dict[str, Any],
        fact: InstanceResized,
    ) -> Casts:
        """The destination dropped its copy: back to the source's allocation and host."""
        if migration["status"] != "reverting" or fact.host != migration["dest_host"]:
            return []
        await migration_queries.release_on_host(conn, row["id"], migration["dest_host"])
        await migration_queries.move_allocations(conn, migration["id"], row["id"])
        await settle_on(conn, row["project_id"], migration, migration["old_flavor"])
        await migration_queries.update(conn, migration["id"], status="finish-reverting")
        old = Flavor.model_validate(migration["old_flavor"])
        spec = RequestSpec.model_validate(migration["request_spec"])
        spec = spec.model_copy(
            update={
                "flavor_id": old.id,
                "resources": resource_request(old, boots_from_volume=row["image_id"] is None),
            }
        )
        await instances.update_state(
            conn,
            row["id"],
            host=migration["source_host"],
            node=migration["source_host"],
            flavor=old.model_dump(mode="json"),
            flavor_id=old.id,
            request_spec=spec.model_dump(mode="json"),
            task_deadline=self._d.deadline(),
            power_state=int(fact.power_state),
        )
        command = FinishRevertResize(
            instance_id=row["id"],
            migration_id=migration["id"],
            old_flavor=old,
            power_on=migration["old_vm_state"] == "active",
        )
        return [(migration["source_host"], command)]

    async def revert_finished(
        self,
        conn: Connection,
        row: dict[str, Any],
        migration: dict[str, Any],
        fact: InstanceResized,
    ) -> Casts:
        if migration["status"] != "finish-reverting" or fact.host != migration["source_host"]:
            return []
        await migration_queries.update(conn, migration["id"], status="reverted")
        await instances.update_state(
            conn,
            row["id"],
            vm_state=migration["old_vm_state"],
            task_state=None,
            power_state=int(fact.power_state),
        )
        await lifecycle.emit(conn, "instance.resize_revert.end", row["id"], migration["request_id"])
        await finish_action(conn, row["id"], migration["request_id"])
        return []
