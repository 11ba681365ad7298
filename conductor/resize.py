"""Resize (to a new flavor) and cold migrate (same flavor, another host), like Nova.

  start      ACTIVE or SHUTOFF, no task: a migration record; the source allocation
             moves to the migration id as consumer; task resize_prep
  schedule   the scheduler picks a destination (not the source unless configured) and
             its plan writes the destination allocation under the instance;
             task resize_migrating, resize_instance cast to the source
  migrated   (source off) task resize_finish, finish_resize cast to the destination
  finished   (destination running) host = destination, flavor = new,
             vm_state resized (VERIFY_RESIZE), instance.resize.end / instance.migrate.end
Confirm and revert: resize_verify.py. Failures and deadlines: resize_settle.py.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

from conductor import lifecycle
from conductor.db.queries import flavors, instance_actions, instances
from conductor.db.queries import migrations as migration_queries
from conductor.db.types import Connection
from conductor.moves import AfterCommit, Casts, MoveDeps, finish_action, move_event, refuse
from conductor.records import flavor_from_row
from conductor.resize_quota import consume_growth
from conductor.resize_settle import roll_back
from conductor.servers import identity
from corebus.envelope import RequestContext
from schemas.claims import Claim
from schemas.compute import Flavor
from schemas.errors import Forbidden, InvalidInput, NotFound, NoValidHost
from schemas.flavor_specs import resource_request
from schemas.instance_state import PowerState
from schemas.messages import conductor_actions as actions
from schemas.messages.agent_devices import FinishResize, ResizeInstance
from schemas.messages.facts import InstanceResized
from schemas.messages.scheduler import RequestSpec, SelectDestinations, SelectDestinationsReply

log = logging.getLogger(__name__)

ALLOWED = ("active", "stopped")


class Resizes:
    def __init__(self, deps: MoveDeps) -> None:
        self._d = deps
        self._running: set[asyncio.Task[None]] = set()

    # -- start (in the action's transaction) ---------------------------------------------
    async def start(
        self, conn: Connection, ctx: RequestContext, row: dict[str, Any], action: Any
    ) -> AfterCommit:
        project_id, user_id = identity(ctx)
        is_resize = isinstance(action, actions.Resize)
        verb = "resize" if is_resize else "migrate"
        if row["task_state"] is not None or row["vm_state"] not in ALLOWED or not row["host"]:
            raise refuse(verb, row)
        old = Flavor.model_validate(row["flavor"])
        new = old
        if is_resize:
            new = await self._new_flavor(conn, action.flavor_id, project_id, old)
        elif action.host is not None and not ctx.is_admin:
            raise Forbidden("choosing the destination host is for admins")
        await consume_growth(conn, row["project_id"], row["flavor"], new.model_dump(mode="json"))
        spec = self._spec(row, new, project_id, user_id, action)
        migration = await migration_queries.insert(
            conn,
            instance_id=row["id"],
            migration_type="resize" if is_resize else "migration",
            source_host=row["host"],
            old_flavor=row["flavor"],
            new_flavor=new.model_dump(mode="json"),
            old_vm_state=row["vm_state"],
            request_spec=spec.model_dump(mode="json"),
            request_id=ctx.request_id,
        )
        # Nova's migration-based allocations: the source is held by the migration now,
        # so the scheduler's plan writes the destination under the instance.
        await migration_queries.move_allocations(conn, row["id"], migration["id"])
        await instances.update_state(
            conn,
            row["id"],
            task_state="resize_prep",
            task_deadline=lifecycle.deadline_in(self._d.schedule_timeout_s),
        )
        await instance_actions.start_action(
            conn, row["id"], ctx.request_id, verb, project_id=project_id, user_id=user_id
        )
        await lifecycle.emit(conn, move_event(migration, "start"), row["id"], ctx.request_id)

        async def after() -> None:
            self._spawn_task(self.schedule(migration["id"], spec, ctx.request_id))

        return after

    async def _new_flavor(
        self, conn: Connection, flavor_id: UUID, project_id: UUID, old: Flavor
    ) -> Flavor:
        flavor_row = await flavors.get_flavor(conn, flavor_id, project_id=project_id)
        if flavor_row is None or flavor_row["disabled"]:
            raise NotFound(f"flavor {flavor_id} not found", flavor_id=str(flavor_id))
        new = flavor_from_row(flavor_row)
        if new.id == old.id:
            raise InvalidInput("the server already has this flavor: resize to another one")
        if new.disk_gb < old.disk_gb:
            raise InvalidInput("resizing to a smaller disk is not supported")
        return new

    def _spec(
        self, row: dict[str, Any], new: Flavor, project_id: UUID, user_id: UUID, action: Any
    ) -> RequestSpec:
        stored = dict(row["request_spec"] or {})
        base = RequestSpec.model_validate(
            stored
            | {"instance_ids": [str(row["id"])], "num_instances": 1}
            | ({} if stored.get("project_id") else {"project_id": str(project_id)})
            | ({} if stored.get("flavor_id") else {"flavor_id": str(new.id)})
            | ({} if stored.get("resources") else {"resources": {}})
        )
        same_host_ok = isinstance(action, actions.Resize) and self._d.allow_resize_to_same_host
        return base.model_copy(
            update={
                "flavor_id": new.id,
                "resources": resource_request(new, boots_from_volume=row["image_id"] is None),
                "ignore_hosts": frozenset() if same_host_ok else frozenset({row["host"]}),
                "force_host": getattr(action, "host", None),
                "availability_zone": row["availability_zone"] or base.availability_zone,
                "user_id": base.user_id or user_id,
                "attempt": 0,
            }
        )

    # -- schedule (in the background) ----------------------------------------------------
    def _spawn_task(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def schedule(self, migration_id: UUID, spec: RequestSpec, request_id: str) -> None:
        try:
            await self._schedule(migration_id, spec, request_id)
        except Exception:
            log.exception("scheduling migration %s failed; the sweep settles it", migration_id)

    async def _schedule(self, migration_id: UUID, spec: RequestSpec, request_id: str) -> None:
        context = RequestContext(request_id=request_id)
        casts: Casts = []
        try:
            reply = await self._d.client.call(
                "scheduler.select_destinations",
                SelectDestinations(spec=spec),
                SelectDestinationsReply,
                timeout=self._d.schedule_timeout_s,
                context=context,
            )
        except NoValidHost as exc:
            async with self._d.pool.acquire() as conn, conn.transaction():
                migration = await migration_queries.get(conn, migration_id, for_update=True)
                if migration is not None and migration["status"] == "pre-migrating":
                    casts = await roll_back(conn, migration, f"No valid host: {exc.message}")
            self._d.on_commit()
            await self._d.cast(casts, request_id)
            return
        primary = reply.selections[0].primary
        async with self._d.pool.acquire() as conn, conn.transaction():
            casts = await self._chosen(conn, migration_id, primary.host, primary.claim)
        self._d.on_commit()
        await self._d.cast(casts, request_id)

    async def _chosen(self, conn: Connection, migration_id: UUID, host: str, claim: Claim) -> Casts:
        migration = await migration_queries.get(conn, migration_id, for_update=True)
        row = (
            await instances.get_instance(conn, migration["instance_id"], for_update=True)
            if migration
            else None
        )
        if (
            migration is None
            or row is None
            or migration["status"] != "pre-migrating"
            or row["task_state"] != "resize_prep"
        ):  # settled meanwhile (deadline, delete): give the destination claim back
            if migration is not None:
                await migration_queries.release_on_host(conn, migration["instance_id"], host)
            return []
        await migration_queries.update(
            conn,
            migration_id,
            status="migrating",
            dest_host=host,
            dest_claim=claim.model_dump(mode="json"),
        )
        await instances.update_state(
            conn, row["id"], task_state="resize_migrating", task_deadline=self._d.deadline()
        )
        command = ResizeInstance(
            instance_id=row["id"],
            migration_id=migration_id,
            dest_host=host,
            new_flavor=Flavor.model_validate(migration["new_flavor"]),
        )
        return [(migration["source_host"], command)]

    # -- facts (in the fact's transaction) -----------------------------------------------
    async def migrated(
        self,
        conn: Connection,
        row: dict[str, Any],
        migration: dict[str, Any],
        fact: InstanceResized,
    ) -> Casts:
        """The source is off and its disks are ready: finish on the destination."""
        if migration["status"] != "migrating" or fact.host != migration["source_host"]:
            return []
        await migration_queries.update(conn, migration["id"], status="post-migrating")
        await instances.update_state(
            conn,
            row["id"],
            task_state="resize_finish",
            task_deadline=self._d.deadline(),
            power_state=int(fact.power_state),
        )
        image = await self._d.image(conn, row["image_id"])
        command = FinishResize(
            instance_id=row["id"],
            migration_id=migration["id"],
            source_host=migration["source_host"],
            name=row["name"],
            new_flavor=Flavor.model_validate(migration["new_flavor"]),
            claim=Claim.model_validate(migration["dest_claim"]),
            image=image[0] if image else None,
            image_location=image[1] if image else None,
            power_on=migration["old_vm_state"] == "active",
        )
        return [(migration["dest_host"], command)]

    async def finished(
        self,
        conn: Connection,
        row: dict[str, Any],
        migration: dict[str, Any],
        fact: InstanceResized,
    ) -> Casts:
        """Running on the destination: VERIFY_RESIZE until the user confirms or reverts."""
        if migration["status"] != "post-migrating" or fact.host != migration["dest_host"]:
            return []
        await migration_queries.update(conn, migration["id"], status="finished")
        new = Flavor.model_validate(migration["new_flavor"])
        await instances.update_state(
            conn,
            row["id"],
            host=migration["dest_host"],
            node=migration["dest_host"],
            flavor=new.model_dump(mode="json"),
            flavor_id=new.id,
            request_spec=migration["request_spec"],
            vm_state="resized",
            task_state=None,
            power_state=int(fact.power_state or PowerState.NOSTATE),
        )
        await lifecycle.emit(conn, move_event(migration, "end"), row["id"], migration["request_id"])
        await finish_action(conn, row["id"], migration["request_id"])
        return []

    async def drain(self) -> None:
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
