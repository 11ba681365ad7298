"""Drivers by area (hypervisor, network, dvr, pci, storage): each a small Protocol of
async, idempotent methods taking schemas, a fake with fault injection and, where one
exists yet, a real implementation. `registry.py` maps driver names to factories."""
