"""Conductor RPC for the gateway (conductor_compute_admin): filled in by its API area."""

from __future__ import annotations
