"""The node agent: every side effect on a host (VMs, ports, namespaces, volumes), reported
back to the conductor as facts on `skymesh.events`."""
