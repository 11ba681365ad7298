"""The agent's RPC handlers by role: thin (validate by annotation, call one driver
method, publish the outcome fact). Each class is instantiated twice: as
`node_agent.<host>` (this host) and as `node_agent.<role>` (any agent of the role)."""
