"""Hypervisor drivers: `base.py` (the Protocol), `fake.py` (in memory, state in a JSON
file, fault injection, out-of-band hook), `libvirt.py` (libvirt, the test driver by
default)."""
