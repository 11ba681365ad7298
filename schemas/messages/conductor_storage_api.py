"""Conductor RPC for the gateway (conductor_storage_api): filled in by its API area."""

from __future__ import annotations
