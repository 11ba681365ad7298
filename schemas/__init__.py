"""skymesh contracts: versioned message and resource models (pydantic v2, no I/O).

Domain modules: identity, compute (flavor, image), instance (+ instance_state),
server_group, network, security_group, router, storage, pci, numa, placement.
Arithmetic shared by scheduler and conductor: fit. Messages: schemas.messages.*.
Tooling: fingerprint (version guard), export (JSON Schema), cli.
"""
