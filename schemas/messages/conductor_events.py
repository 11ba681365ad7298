"""Conductor RPC for the gateway (conductor_events): filled in by its API area."""

from __future__ import annotations
