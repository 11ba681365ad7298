"""Conductor RPC for the gateway (conductor_identity_admin): filled in by its API area."""

from __future__ import annotations
