"""Services are plain classes; markers only tag methods, which stay directly callable.

    class Conductor:
        name = "conductor"

        @rpc
        async def create_server(self, ctx: RequestContext, req: CreateServer) -> ServerRef: ...

        @event_handler("events", "compute.*.instance.#", group="conductor")
        async def on_instance_fact(self, ctx: RequestContext, fact: InstanceFact) -> None: ...

The runner binds `<name>.*` (plus the service's optional `rpc_bindings`) and routes the
last word of the topic to the `@rpc` method of that name. Each payload is validated
against the model named in the handler's annotation before the handler runs; what
does not validate is refused with a clear reason (an error reply for calls, the
dead-letter exchange otherwise).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import signal
import time
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from corebus.bus import Bus, Subscription
from corebus.dispatch import error_reply
from corebus.envelope import Envelope, Kind, reply_to
from corebus.errors import InvalidMessage
from corebus.logs import request_id
from corebus.metrics import HANDLER_SECONDS, MESSAGES
from schemas.base import MESSAGES as MESSAGE_TYPES
from schemas.base import Message
from schemas.errors import SkymeshError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
RPC_MARK = "__skymesh_rpc__"
PING = "ping"  # `<service>.ping`: answered by the runner itself
EVENT_MARK = "__skymesh_events__"


@dataclass(frozen=True)
class EventBinding:
    stream: str
    patterns: tuple[str, ...]
    group: str | None


def rpc(fn: F) -> F:
    """Mark a method as callable over the bus (call and cast) under its own name."""
    setattr(fn, RPC_MARK, True)
    return fn


def event_handler(stream: str, *patterns: str, group: str | None = None) -> Callable[[F], F]:
    """Mark a method as a handler of events on `stream` matching `patterns`.
    With `group`, the processes of that group share the events this handler gets (a
    durable queue per group and handler); without, every process gets all of them."""

    def mark(fn: F) -> F:
        setattr(fn, EVENT_MARK, EventBinding(stream, patterns, group))
        return fn

    return mark


def payload_model(fn: Callable[..., Any]) -> type[Message]:
    """The Message model a handler takes: the annotation of its last parameter."""
    hints = typing.get_type_hints(fn)
    params = [p for p in inspect.signature(fn).parameters if p not in ("self", "return")]
    model = hints.get(params[-1]) if params else None
    if not (isinstance(model, type) and issubclass(model, Message)):
        raise TypeError(f"{fn.__qualname__}: annotate the payload parameter with a Message model")
    return model


def validate_payload(envelope: Envelope, expected: type[Message]) -> Message:
    """Pick the registered model the envelope names (the expected one or a subclass of
    it), check the version, and validate the payload against it."""
    model = MESSAGE_TYPES.get(envelope.schema_name)
    if model is None or not issubclass(model, expected):
        raise InvalidMessage(
            f"schema {envelope.schema_name!r} is not accepted here (expected "
            f"{expected.message_name or expected.__name__!r})"
        )
    if envelope.version > model.message_version:
        raise InvalidMessage(
            f"{model.message_name} version {envelope.version} is newer than the "
            f"supported {model.message_version}"
        )
    try:
        return model.model_validate(envelope.payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(payload)"
        raise InvalidMessage(f"{model.message_name}: {where}: {first['msg']}") from None


_current: contextvars.ContextVar[Envelope | None] = contextvars.ContextVar(
    "skymesh_current_envelope", default=None
)


def current_envelope() -> Envelope | None:
    """The envelope of the message being handled (its idempotency key, deadline, ids);
    None outside a handler."""
    return _current.get()


class _Handler:
    """One marked method with its payload model, instrumented."""

    def __init__(self, service: str, fn: Callable[..., Awaitable[Any]]) -> None:
        self.service, self.fn, self.name = service, fn, fn.__name__
        self.model = payload_model(fn)

    async def run(self, envelope: Envelope) -> Any:
        token = request_id.set(envelope.context.request_id)
        current = _current.set(envelope)
        started = time.perf_counter()
        outcome = "ok"
        try:
            payload = validate_payload(envelope, self.model)
            return await self.fn(envelope.context, payload)
        except SkymeshError as exc:
            outcome = exc.code
            raise
        except Exception:
            outcome = "exception"
            raise
        finally:
            HANDLER_SECONDS.labels(self.service, self.name).observe(time.perf_counter() - started)
            MESSAGES.labels(self.service, self.name, envelope.kind.value, outcome).inc()
            request_id.reset(token)
            _current.reset(current)


class RpcDispatcher:
    """Routes `<service>.<method>` calls and casts to the @rpc methods of every service
    object of that name (a service may be split into several small classes)."""

    def __init__(self, services: Sequence[Any]) -> None:
        self.name: str = services[0].name
        bindings = [f"{self.name}.*"]
        self.handlers: dict[str, _Handler] = {}
        for service in services:
            bindings += [b for b in getattr(service, "rpc_bindings", ()) if b not in bindings]
            for fn in _marked(service, RPC_MARK):
                if fn.__name__ in self.handlers:
                    raise TypeError(f"{self.name}.{fn.__name__} is defined twice")
                self.handlers[fn.__name__] = _Handler(self.name, fn)
        self.bindings = tuple(bindings)

    async def __call__(self, topic: str, envelope: Envelope) -> Envelope | None:
        method = topic.rsplit(".", 1)[-1]
        handler = self.handlers.get(method)
        if handler is None and method == PING:  # every service answers a health check
            return reply_to(envelope, Kind.REPLY, "none", 1, {})
        if handler is None:
            error = InvalidMessage(f"{self.name} has no method {method!r}")
            if envelope.kind is Kind.CALL:
                return error_reply(envelope, error)
            raise error
        result = await handler.run(envelope)
        if envelope.kind is not Kind.CALL:
            return None
        if isinstance(result, Message):
            payload = result.model_dump(mode="json")
            return reply_to(
                envelope, Kind.REPLY, result.message_name, result.message_version, payload
            )
        return reply_to(envelope, Kind.REPLY, "none", 1, {})


def _marked(service: Any, mark: str) -> list[Callable[..., Awaitable[Any]]]:
    found = []
    for attr in dir(type(service)):
        fn = getattr(service, attr, None)
        if callable(fn) and getattr(fn, mark, None):
            found.append(fn)
    return found


class ServiceRunner:
    """Starts services on a bus and stops them gracefully: stop consuming, let the
    handlers in flight finish, then run each service's own `stop()`."""

    def __init__(self, bus: Bus, services: Sequence[Any]) -> None:
        self.bus = bus
        self.services = list(services)
        self._subscriptions: list[Subscription] = []
        self._stop = asyncio.Event()

    async def start(self) -> None:
        by_name: dict[str, list[Any]] = {}
        for service in self.services:
            if hasattr(service, "start"):
                await service.start()
            by_name.setdefault(service.name, []).append(service)
        for group in by_name.values():
            dispatcher = RpcDispatcher(group)
            if dispatcher.handlers:
                sub = await self.bus.serve(dispatcher.name, dispatcher.bindings, dispatcher)
                self._subscriptions.append(sub)
        for service in self.services:
            for fn in _marked(service, EVENT_MARK):
                self._subscriptions.append(await self._subscribe(service.name, fn))

    async def _subscribe(self, service: str, fn: Callable[..., Awaitable[Any]]) -> Subscription:
        binding: EventBinding = getattr(fn, EVENT_MARK)
        handler = _Handler(service, fn)

        async def on_event(_topic: str, envelope: Envelope) -> None:
            await handler.run(envelope)

        # Each handler has its own queue: processes of a group share that handler's
        # events, and two handlers never compete for one another's messages.
        group = None if binding.group is None else f"{binding.group}.{fn.__name__}"
        return await self.bus.subscribe(binding.stream, binding.patterns, on_event, group=group)

    async def stop(self) -> None:
        subs, self._subscriptions = self._subscriptions, []
        await asyncio.gather(*(s.cancel() for s in subs), return_exceptions=True)
        for service in reversed(self.services):
            if hasattr(service, "stop"):
                try:
                    await service.stop()
                except Exception:
                    log.exception("stopping %s failed", getattr(service, "name", service))

    def request_stop(self) -> None:
        self._stop.set()

    async def run_until_stopped(self) -> None:
        """Start, serve until SIGTERM or SIGINT (or `request_stop()`), then stop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        try:
            await self.start()
            await self._stop.wait()
            log.info("stopping: finishing the work in flight")
        finally:
            await self.stop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
