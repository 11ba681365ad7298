"""Rows to contracts: the conductor answers and notifies with schemas models, built from
the dicts the query modules return."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, get_args

from pydantic import BaseModel

from schemas.compute import Flavor, Image
from schemas.instance import Instance, InstanceFault
from schemas.network import Network, Subnet

M = TypeVar("M", bound=BaseModel)


def _nullable(annotation: Any) -> bool:
    return annotation is None or type(None) in get_args(annotation)


def model_from_row(model: type[M], row: Mapping[str, Any], **overrides: Any) -> M:
    """`model` from the row's columns that are fields of it (others are ignored). A NULL
    is passed on where the field accepts None (task_state NULL means no task, not the
    field's default) and left out otherwise, so the field's default applies."""
    fields = model.model_fields
    data = {
        k: v
        for k, v in row.items()
        if k in fields and (v is not None or _nullable(fields[k].annotation))
    }
    data.update(overrides)
    return model.model_validate(data)


def flavor_from_row(row: Mapping[str, Any]) -> Flavor:
    return model_from_row(Flavor, row, description=row.get("description") or "")


def image_from_row(row: Mapping[str, Any]) -> Image:
    return model_from_row(Image, row)


def instance_from_row(row: Mapping[str, Any], fault: Mapping[str, Any] | None = None) -> Instance:
    """The instance; its `flavor` column is the flavor snapshot taken at create time."""
    extra: dict[str, Any] = {"flavor": Flavor.model_validate(row["flavor"])}
    if fault is not None:
        extra["fault"] = model_from_row(InstanceFault, fault)
    return model_from_row(Instance, row, **extra)


def network_from_row(row: Mapping[str, Any], subnet_ids: tuple[Any, ...] = ()) -> Network:
    return model_from_row(Network, row, subnet_ids=subnet_ids)


def subnet_from_row(row: Mapping[str, Any]) -> Subnet:
    """A subnet; inet/cidr columns arrive as ipaddress objects and become text."""
    text: dict[str, Any] = {
        k: str(row[k]) for k in ("cidr", "gateway_ip") if row.get(k) is not None
    }
    if row.get("dns_nameservers"):
        text["dns_nameservers"] = tuple(str(a) for a in row["dns_nameservers"])
    return model_from_row(Subnet, row, **text)
