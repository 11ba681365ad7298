"""Conductor RPC for the gateway (conductor_server_extras): filled in by its API area."""

from __future__ import annotations
