"""The build workflow of one server (architecture.md, "The boot of one server").

Steps, each recorded in the instance row with a deadline the sweep enforces:
  scheduling  -> the scheduler places it (its plan already wrote the allocations), with
                 its server group's member hosts as they are now (conductor/boot_groups.py)
  spawning    -> once the volumes it boots from are made, they are attached and its ports
                 bound on the chosen host (conductor/boot_volumes.py, boot_ports.py), the
                 network agents told about the ports and the host's agent to spawn;
                 `instance.spawned` (ingest.py) makes it ACTIVE, `instance.spawn_failed`
                 comes back here to reschedule (the ports and volumes move along).
A failed attempt releases its allocations and asks the scheduler again without the hosts
that failed, up to `max_attempts`; then ERROR with every reason in the fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from conductor import boot_groups, boot_ports, boot_volumes, build_resume, lifecycle
from conductor.agents import Casts, cast_all
from conductor.db.queries import allocations, images, instance_actions, instances
from conductor.db.queries import hosts as host_queries
from conductor.records import image_from_row
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.errors import BusUnavailable, ConnectionLost, NoConsumer
from schemas.compute import Flavor, ImageLocation, ImageLocationKind
from schemas.errors import InvalidInput, NoValidHost
from schemas.messages.agent_compute import Spawn
from schemas.messages.scheduler import (
    RequestSpec,
    SelectDestinations,
    SelectDestinationsReply,
    Selection,
)

log = logging.getLogger(__name__)

# instance action events of a build, named as Nova names them
SCHEDULE = "conductor_schedule_and_build_instances"
SPAWN = "compute__do_build_and_run_instance"


class Builds:
    def __init__(
        self,
        pool: asyncpg.Pool,
        client: Client,
        *,
        max_attempts: int,
        schedule_timeout_s: float,
        spawn_timeout_s: float,
        image_dir: Path,
        vif_plug_timeout_s: float = 300.0,
    ) -> None:
        self._pool = pool
        self._client = client
        self._max_attempts = max_attempts
        self._schedule_timeout = schedule_timeout_s
        self._spawn_timeout = spawn_timeout_s
        self._image_dir = image_dir
        self._vif_plug_timeout = vif_plug_timeout_s
        self._running: set[asyncio.Task[None]] = set()
        self._owner = build_resume.owner_name()
        # builds whose lease this conductor renews: the latest build of each instance here
        self._active: dict[UUID, object] = {}

    def start(
        self, instance_id: UUID, request_id: str | None, selection: Selection | None = None
    ) -> None:
        """Run the build in the background; its state lives in the database (a build
        resumed at its spawning step comes with the selection it recorded)."""
        task = asyncio.create_task(
            self.build(instance_id, request_id, selection), name=f"build-{instance_id}"
        )
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def drain(self) -> None:
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def build(
        self, instance_id: UUID, request_id: str | None, selection: Selection | None = None
    ) -> None:
        ok = False
        this = self._active[instance_id] = object()
        try:  # owned already: by the create or reschedule transaction, or by the claim
            if selection is None:
                await self._build(instance_id, request_id)
            else:
                await self._resume_spawn(instance_id, selection, request_id)
            ok = True
        except Exception:
            # Resumed by a conductor at once, else the deadline sweep retries or fails it;
            # nothing is left BUILDING forever.
            log.exception("build of %s failed; it will be resumed", instance_id)
        finally:
            # An attempt the instance went on without (rescheduled here or by another
            # conductor) leaves the workflow alone: it is the next attempt's now, and
            # lapsing its lease would have it resumed (its claim given back) beside it.
            if self._active.get(instance_id) is this:
                del self._active[instance_id]
                with contextlib.suppress(Exception):
                    async with self._pool.acquire() as conn:
                        await build_resume.done(conn, instance_id, ok=ok, owner=self._owner)

    async def own(self, conn: Any, instance_ids: list[UUID]) -> None:
        """Record, in the caller's transaction, that this conductor runs these builds."""
        for instance_id in instance_ids:
            await build_resume.own(conn, instance_id, self._owner)

    async def renew_leases(self) -> None:
        """Keep the builds running here owned by this conductor (called every sweep)."""
        async with self._pool.acquire() as conn:
            await build_resume.renew(conn, self._owner, sorted(self._active))

    async def resume_stranded(self) -> int:
        """Resume, at their recorded step, the builds of conductors that are gone."""
        resumed: list[tuple[UUID, Selection | None]] = []
        async with self._pool.acquire() as conn:
            async with conn.transaction():  # claimed and committed: the rows are ours
                claimed = await build_resume.claim_stranded(conn, self._owner)
            for workflow in claimed:
                instance_id = workflow["instance_id"]
                if instance_id in self._active:
                    continue  # still running here: the claim renewed its lease
                # the instance row first, then its workflow, as every other writer does
                async with conn.transaction():
                    row = await instances.get_instance(conn, instance_id, for_update=True)
                    state = None if row is None else row["task_state"]
                    if row is None:  # deleted: a claim its lost attempt made goes too
                        await allocations.release(conn, instance_id)
                        await build_resume.done(conn, instance_id, ok=True)
                    elif state == "scheduling" and row["host"] is None:
                        await allocations.release(conn, instance_id)  # a lost attempt's
                        resumed.append((instance_id, None))
                    elif state == "spawning" and (chosen := build_resume.selection_of(workflow)):
                        resumed.append((instance_id, chosen))
                    else:
                        if row["vm_state"] == "error" and row["host"] is None:
                            await allocations.release(conn, instance_id)  # failed: none
                        await build_resume.done(conn, instance_id, ok=True)
        for instance_id, chosen in resumed:
            log.info("resuming the build of %s whose conductor is gone", instance_id)
            self.start(instance_id, None, chosen)
        return len(resumed)

    async def _resume_spawn(
        self, instance_id: UUID, selection: Selection, request_id: str | None
    ) -> None:
        async with self._pool.acquire() as conn:
            row = await instances.get_instance(conn, instance_id)
        if row is None or row["task_state"] != "spawning" or row["host"] != selection.host:
            return
        context = RequestContext(request_id=request_id or RequestContext().request_id)
        await self._spawn(row, selection, context)

    async def cast(self, casts: Casts, request_id: str | None) -> None:
        """Send what a committed transaction decided to tell the agents."""
        if casts:
            context = RequestContext(request_id=request_id or RequestContext().request_id)
            await cast_all(self._client, casts, context)

    async def _build(self, instance_id: UUID, request_id: str | None) -> None:
        async with self._pool.acquire() as conn:
            row = await instances.get_instance(conn, instance_id)
        if row is None or row["task_state"] != "scheduling":
            return  # deleted, or another conductor took it over
        attempt = row["attempts"]  # this attempt's number: a reschedule counts it failed
        context = RequestContext(request_id=request_id or RequestContext().request_id)
        async with self._pool.acquire() as conn:
            await instance_actions.begin_step(conn, instance_id, "create", SCHEDULE)
        primary = await self._schedule(row, context)
        if primary is None:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            # Still at this attempt: once the sweep rescheduled it (a scheduling timeout),
            # the row is `scheduling` again, but for the next attempt, whose claim the
            # instance holds by now (the reschedule gave this one's back).
            moved = await instances.update_state(
                conn,
                instance_id,
                expected_task_state="scheduling",
                expected_attempts=attempt,
                host=primary.host,
                node=primary.host,
                availability_zone=primary.availability_zone,
                task_state="spawning",
                task_deadline=lifecycle.deadline_in(self._spawn_timeout),
            )
            if moved is None:  # deleted or failed while the scheduler worked: give the
                # claim back. Not when it went on without this attempt (rescheduled, or
                # another conductor's resumed build got there first): what the instance
                # holds is that attempt's claim, even once it is ACTIVE.
                now = await instances.get_instance(conn, instance_id)
                if now is None or (now["vm_state"] == "error" and now["task_state"] is None):
                    await allocations.release(conn, instance_id)
                else:
                    log.info(
                        "not placing %s on %s: it went on without attempt %d (%s, attempt %d)",
                        instance_id,
                        primary.host,
                        attempt,
                        now["task_state"] or now["vm_state"],
                        now["attempts"],
                    )
                return
            await instance_actions.end_step(conn, instance_id, SCHEDULE, ok=True)
            await instance_actions.begin_step(conn, instance_id, "create", SPAWN, host=primary.host)
            await build_resume.at_spawning(conn, instance_id, primary)
        await self._spawn(row, primary, context)

    async def _schedule(self, row: dict[str, Any], context: RequestContext) -> Selection | None:
        """The host the scheduler placed the instance on; None when there is none (the
        build failed). A plan refused for its server group (another member took the
        host meanwhile) is planned again on the group's hosts as they are now."""
        spec = RequestSpec.model_validate(row["request_spec"])
        attempt = 1
        # No scheduler consuming (restarting) or the connection lost: asked again within
        # the step's time. A request that times out is not resent (that would double the
        # work of a scheduler that is only slow): the build is resumed, as a failed one.
        give_up = time.monotonic() + self._schedule_timeout
        while True:
            async with self._pool.acquire() as conn:
                spec = await boot_groups.refreshed(conn, spec)
            try:
                reply = await self._client.call(
                    "scheduler.select_destinations",
                    SelectDestinations(spec=spec),
                    SelectDestinationsReply,
                    timeout=max(give_up - time.monotonic(), 1),
                    context=context,
                )
            except (ConnectionLost, NoConsumer, BusUnavailable) as exc:
                if time.monotonic() + 1 > give_up:
                    raise
                log.info("asking the scheduler again for %s: %s", row["id"], exc)
                await asyncio.sleep(0.5)
                continue
            except NoValidHost as exc:
                if "server_group" in exc.details and attempt < self._max_attempts:
                    log.info("scheduling %s again: %s", row["id"], exc.message)
                    attempt += 1
                    continue
                await self._no_valid_host(row, exc, context.request_id)
                return None
            return reply.selections[0].primary

    async def _no_valid_host(self, row: dict[str, Any], exc: NoValidHost, request_id: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await instance_actions.end_step(
                conn, row["id"], SCHEDULE, ok=False, details=exc.message, finish_action_too=True
            )
            await lifecycle.fail_build(
                conn,
                row["id"],
                f"No valid host: {exc.message}",
                details=_previous(row),
                request_id=request_id,
            )

    async def _spawn(
        self, row: dict[str, Any], primary: Selection, context: RequestContext
    ) -> None:
        """Once the volumes are made: attach them and bind the ports on the host, tell
        the network agents about the ports, and the host's agent to spawn."""
        instance_id, host = row["id"], primary.host

        async def still_spawning() -> bool:
            async with self._pool.acquire() as conn:
                now = await instances.get_instance(conn, instance_id)
            return now is not None and now["task_state"] == "spawning" and now["host"] == host

        failure = await boot_volumes.wait_ready(
            self._pool, instance_id, still_spawning, self._spawn_timeout
        )
        if failure is not None and not await still_spawning():
            return  # deleted, or settled by the deadline sweep, meanwhile
        try:
            prepared = None if failure else await self._prepare(row, primary)
        except InvalidInput as exc:
            failure = exc.message
        if failure is not None:
            reason = f"Block device mapping failed: {failure}"
            await self.reschedule(instance_id, host, reason, context.request_id, retryable=False)
            return
        if prepared is not None:
            spawn, casts = prepared
            await cast_all(self._client, [*casts, (host, spawn)], context)

    async def _prepare(self, row: dict[str, Any], primary: Selection) -> tuple[Spawn, Casts] | None:
        """The Spawn command with the instance's volumes and ports, bound to the host in
        one transaction; None when the instance is no longer spawning there."""
        instance_id, host = row["id"], primary.host
        async with self._pool.acquire() as conn, conn.transaction():
            now = await instances.get_instance(conn, instance_id, for_update=True)
            if now is None or now["task_state"] != "spawning" or now["host"] != host:
                return None  # deleted, or settled by the deadline sweep, meanwhile
            volumes = await boot_volumes.attach(conn, instance_id, host)
            ports, casts = await boot_ports.bind(conn, instance_id, host)
            image = await self._image(conn, row["image_id"])
        spawn = Spawn(
            instance_id=instance_id,
            name=row["name"],
            flavor=Flavor.model_validate(row["flavor"]),
            claim=primary.claim,
            image=image[0] if image else None,
            image_location=image[1] if image else None,
            ports=ports,
            volumes=volumes,
            vif_plug_timeout_s=self._vif_plug_timeout,
        )
        return spawn, casts

    async def _image(self, conn: Any, image_id: UUID | None) -> tuple[Any, ImageLocation] | None:
        if image_id is None:
            return None
        row = await images.get_image(conn, image_id)
        if row is None:
            return None
        path = row.get("location") or str(self._image_dir / str(image_id))
        return image_from_row(row), ImageLocation(kind=ImageLocationKind.FILE, path=path)

    async def reschedule(
        self,
        instance_id: UUID,
        host: str | None,
        reason: str,
        request_id: str | None,
        *,
        retryable: bool = True,
    ) -> None:
        """A build attempt failed on `host` (None: while scheduling): try elsewhere, or
        fail with every reason. Nothing happens when the instance is no longer at that
        attempt: the caller saw the failure before it moved on (e.g. the sweep found it
        timed out in scheduling, and its build, answered by the scheduler meanwhile, put
        it on a host and sent the Spawn there). Rescheduling it then would leave that
        host's domain to nobody."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await instances.get_instance(conn, instance_id, for_update=True)
            if row is None or row["task_state"] not in ("scheduling", "spawning"):
                return
            if row["host"] != host:
                log.info(
                    "not rescheduling %s after a failure on %s: it is %s on %s now",
                    instance_id,
                    host,
                    row["task_state"],
                    row["host"],
                )
                return
            attempts, failures = await instances.record_build_failure(
                conn, instance_id, host, reason
            )
            if host is not None:
                await host_queries.count_failed_build(conn, host)
            await instance_actions.end_step(conn, instance_id, SPAWN, ok=False, details=reason)
            if not retryable or attempts >= self._max_attempts:
                reasons = "; ".join(f"{f['host'] or '-'}: {f['reason']}" for f in failures)
                await lifecycle.fail_build(
                    conn,
                    instance_id,
                    f"Build failed after {attempts} attempt(s): {reason}",
                    host=host,
                    details=reasons,
                    request_id=request_id,
                )
                return
            await allocations.release(conn, instance_id)
            spec = RequestSpec.model_validate(row["request_spec"])
            tried = {f["host"] for f in failures if f["host"]}
            spec = spec.model_copy(update={"ignore_hosts": spec.ignore_hosts | tried})
            await build_resume.own(conn, instance_id, self._owner)
            await instances.update_state(
                conn,
                instance_id,
                host=None,
                node=None,
                task_state="scheduling",
                task_deadline=lifecycle.deadline_in(self._schedule_timeout),
                request_spec=spec.model_dump(mode="json"),
            )
        log.info("rescheduling %s after a failure on %s: %s", instance_id, host, reason)
        self.start(instance_id, request_id)


def _previous(row: dict[str, Any]) -> str:
    return "; ".join(f"{f['host'] or '-'}: {f['reason']}" for f in row.get("build_failures") or [])
