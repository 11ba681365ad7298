-- skymesh initial schema: identity, quotas, catalog, hosts and placement, instances,
-- networking, volumes and the conductor's own bookkeeping (outbox, facts, idempotency,
-- workflows). Applied in one transaction by conductor/db/migrate.py; never edit this
-- file once released: add a new NNNN_name.sql instead (the checksum is verified).
--
-- Conventions: uuid primary keys for user-visible resources, bigserial for logs;
-- timestamptz everywhere; enumerations as text + CHECK; jsonb objects CHECKed to be
-- objects (or arrays); every foreign key column that is queried has an index.

-- ---------------------------------------------------------------------------
-- identity
-- ---------------------------------------------------------------------------
CREATE TABLE projects (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
    description text NOT NULL DEFAULT '',
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
    password_hash      text NOT NULL CHECK (password_hash <> ''),
    email              text,
    enabled            boolean NOT NULL DEFAULT true,
    default_project_id uuid REFERENCES projects (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE roles (
    id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_-]*$')
);

CREATE TABLE role_assignments (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role_id    uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, project_id, role_id)
);
CREATE INDEX role_assignments_project_idx ON role_assignments (project_id);
CREATE INDEX role_assignments_role_idx ON role_assignments (role_id);

-- Only the sha256 of a token is stored (hex); the token itself is never persisted.
CREATE TABLE tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid REFERENCES projects (id) ON DELETE CASCADE,
    roles      text[] NOT NULL DEFAULT '{}',
    issued_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked    boolean NOT NULL DEFAULT false,
    revoked_at timestamptz,
    CHECK (expires_at > issued_at),
    CHECK (revoked = (revoked_at IS NOT NULL))
);
CREATE INDEX tokens_user_idx ON tokens (user_id);
CREATE INDEX tokens_expires_idx ON tokens (expires_at);

-- ---------------------------------------------------------------------------
-- quotas: limits per project and resource (-1 = unlimited), defaults for all projects,
-- usage (in_use + reserved) and the reservations still open.
-- ---------------------------------------------------------------------------
CREATE TABLE quota_defaults (
    resource   text PRIMARY KEY CHECK (resource ~ '^[a-z][a-z0-9_]*$'),
    hard_limit bigint NOT NULL CHECK (hard_limit >= -1)
);
INSERT INTO quota_defaults (resource, hard_limit) VALUES
    ('instances', 10), ('cores', 20), ('ram', 51200), ('key_pairs', 100),
    ('server_groups', 10), ('server_group_members', 10), ('metadata_items', 128),
    ('networks', 100), ('subnets', 100), ('ports', 500), ('routers', 10),
    ('floating_ips', 50), ('security_groups', 10), ('security_group_rules', 100),
    ('volumes', 10), ('gigabytes', 1000), ('snapshots', 10);

CREATE TABLE quotas (
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    resource   text NOT NULL CHECK (resource ~ '^[a-z][a-z0-9_]*$'),
    hard_limit bigint NOT NULL CHECK (hard_limit >= -1),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, resource)
);

CREATE TABLE quota_usages (
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    resource   text NOT NULL CHECK (resource ~ '^[a-z][a-z0-9_]*$'),
    in_use     bigint NOT NULL DEFAULT 0 CHECK (in_use >= 0),
    reserved   bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, resource)
);

CREATE TABLE quota_reservations (
    id          uuid NOT NULL,
    project_id  uuid NOT NULL,
    resource    text NOT NULL,
    amount      bigint NOT NULL CHECK (amount > 0),
    consumer_id uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (id, resource),
    FOREIGN KEY (project_id, resource)
        REFERENCES quota_usages (project_id, resource) ON DELETE CASCADE
);
CREATE INDEX quota_reservations_expires_idx ON quota_reservations (expires_at);
CREATE INDEX quota_reservations_usage_idx ON quota_reservations (project_id, resource);

-- ---------------------------------------------------------------------------
-- catalog: flavors and images
-- ---------------------------------------------------------------------------
CREATE TABLE flavors (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
    vcpus        integer NOT NULL CHECK (vcpus > 0),
    memory_mb    integer NOT NULL CHECK (memory_mb > 0),
    disk_gb      integer NOT NULL DEFAULT 0 CHECK (disk_gb >= 0),
    ephemeral_gb integer NOT NULL DEFAULT 0 CHECK (ephemeral_gb >= 0),
    swap_mb      integer NOT NULL DEFAULT 0 CHECK (swap_mb >= 0),
    rxtx_factor  double precision NOT NULL DEFAULT 1.0 CHECK (rxtx_factor > 0),
    is_public    boolean NOT NULL DEFAULT true,
    disabled     boolean NOT NULL DEFAULT false,
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flavor_extra_specs (
    flavor_id uuid NOT NULL REFERENCES flavors (id) ON DELETE CASCADE,
    key       text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    value     text NOT NULL CHECK (length(value) <= 255),
    PRIMARY KEY (flavor_id, key)
);

CREATE TABLE flavor_projects (
    flavor_id  uuid NOT NULL REFERENCES flavors (id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (flavor_id, project_id)
);
CREATE INDEX flavor_projects_project_idx ON flavor_projects (project_id);

CREATE TABLE images (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL DEFAULT '',
    owner              uuid REFERENCES projects (id) ON DELETE SET NULL,
    visibility         text NOT NULL DEFAULT 'shared'
        CHECK (visibility IN ('public', 'private', 'shared', 'community')),
    status             text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'saving', 'uploading', 'importing', 'active',
                          'killed', 'deleted', 'pending_delete', 'deactivated')),
    disk_format        text CHECK (disk_format IN ('raw', 'qcow2', 'vmdk', 'vdi', 'iso',
                                                   'vhd', 'vhdx', 'ploop', 'aki', 'ari', 'ami')),
    container_format   text CHECK (container_format IN ('bare', 'ovf', 'ova', 'aki', 'ari',
                                                         'ami', 'docker', 'compressed')),
    size               bigint CHECK (size >= 0),          -- bytes
    virtual_size       bigint CHECK (virtual_size >= 0),  -- bytes
    checksum           text,
    os_hash_algo       text,
    os_hash_value      text,
    location           text,
    min_disk           integer NOT NULL DEFAULT 0 CHECK (min_disk >= 0),  -- GB
    min_ram            integer NOT NULL DEFAULT 0 CHECK (min_ram >= 0),   -- MB
    protected          boolean NOT NULL DEFAULT false,
    properties         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    tags               text[] NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    CHECK (status <> 'active'
           OR (disk_format IS NOT NULL AND container_format IS NOT NULL
               AND size IS NOT NULL AND location IS NOT NULL)),
    CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);
CREATE INDEX images_owner_idx ON images (owner) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_idx ON images (visibility, status) WHERE deleted_at IS NULL;

CREATE TABLE image_members (
    image_id   uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_id, project_id)
);
CREATE INDEX image_members_project_idx ON image_members (project_id);

-- ---------------------------------------------------------------------------
-- hosts (one node agent per host, with one or more roles), aggregates, traits
-- ---------------------------------------------------------------------------
CREATE TABLE hosts (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$'),
    roles             text[] NOT NULL
        CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['compute', 'network', 'storage']),
    availability_zone text,
    enabled           boolean NOT NULL DEFAULT true,
    disabled_reason   text,
    forced_down       boolean NOT NULL DEFAULT false,
    agent_incarnation uuid NOT NULL,
    agent_sequence    bigint NOT NULL DEFAULT 0 CHECK (agent_sequence >= 0),
    agent_version     text,
    capabilities      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(capabilities) = 'object'),
    last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT enabled OR disabled_reason IS NULL)
);
CREATE INDEX hosts_heartbeat_idx ON hosts (last_heartbeat_at);

CREATE TABLE aggregates (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
    metadata          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    availability_zone text GENERATED ALWAYS AS (metadata ->> 'availability_zone') STORED,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX aggregates_az_idx ON aggregates (availability_zone)
    WHERE availability_zone IS NOT NULL;

CREATE TABLE aggregate_hosts (
    aggregate_id uuid NOT NULL REFERENCES aggregates (id) ON DELETE CASCADE,
    host_id      uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    PRIMARY KEY (aggregate_id, host_id)
);
CREATE INDEX aggregate_hosts_host_idx ON aggregate_hosts (host_id);

CREATE TABLE host_traits (
    host_id uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    trait   text NOT NULL CHECK (trait ~ '^[A-Z][A-Z0-9_]*$'),
    PRIMARY KEY (host_id, trait)
);
CREATE INDEX host_traits_trait_idx ON host_traits (trait);

-- ---------------------------------------------------------------------------
-- placement: resource providers (a root per host; nested ones for PFs, VFs, NUMA),
-- inventories. Allocations come after instances (their consumers).
-- ---------------------------------------------------------------------------
CREATE TABLE resource_providers (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
    host_id            uuid REFERENCES hosts (id) ON DELETE CASCADE,
    parent_provider_id uuid REFERENCES resource_providers (id) ON DELETE CASCADE,
    kind               text NOT NULL DEFAULT 'compute'
        CHECK (kind IN ('compute', 'numa', 'pf', 'vf', 'pci', 'storage')),
    generation         bigint NOT NULL DEFAULT 0 CHECK (generation >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_provider_id IS DISTINCT FROM id)
);
CREATE INDEX resource_providers_host_idx ON resource_providers (host_id);
CREATE INDEX resource_providers_parent_idx ON resource_providers (parent_provider_id);
-- at most one root provider per host
CREATE UNIQUE INDEX resource_providers_host_root_uq ON resource_providers (host_id)
    WHERE parent_provider_id IS NULL AND host_id IS NOT NULL;

CREATE TABLE inventories (
    provider_id      uuid NOT NULL REFERENCES resource_providers (id) ON DELETE CASCADE,
    resource_class   text NOT NULL CHECK (resource_class ~ '^[A-Z][A-Z0-9_]*$'),
    total            bigint NOT NULL CHECK (total >= 0),
    reserved         bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    min_unit         bigint NOT NULL DEFAULT 1 CHECK (min_unit >= 1),
    max_unit         bigint NOT NULL CHECK (max_unit >= 1),
    step_size        bigint NOT NULL DEFAULT 1 CHECK (step_size >= 1),
    allocation_ratio double precision NOT NULL DEFAULT 1.0 CHECK (allocation_ratio > 0),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, resource_class),
    CHECK (max_unit >= min_unit)
);

-- NUMA cells of a host: its CPUs (cpuset shared, pcpuset dedicatable) and memory.
CREATE TABLE numa_cells (
    host_id   uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    cell_id   integer NOT NULL CHECK (cell_id >= 0),
    cpuset    integer[] NOT NULL DEFAULT '{}',
    pcpuset   integer[] NOT NULL DEFAULT '{}',
    memory_mb bigint NOT NULL CHECK (memory_mb >= 0),
    hugepages jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(hugepages) = 'object'),
    siblings  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(siblings) = 'array'),
    PRIMARY KEY (host_id, cell_id)
);

-- ---------------------------------------------------------------------------
-- instances and everything hanging off them
-- ---------------------------------------------------------------------------
CREATE TABLE instances (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id        uuid NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    user_id           uuid NOT NULL,  -- no FK: a user may go while their servers live on
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    hostname          text,
    description       text,
    flavor_id         uuid,           -- no FK: the flavor snapshot below is authoritative
    flavor            jsonb NOT NULL CHECK (jsonb_typeof(flavor) = 'object'),
    image_id          uuid,           -- NULL when booted from volume
    host              text REFERENCES hosts (name) ON UPDATE CASCADE ON DELETE SET NULL,
    node              text,
    vm_state          text NOT NULL DEFAULT 'building'
        CHECK (vm_state IN ('building', 'active', 'paused', 'suspended', 'stopped',
                            'rescued', 'resized', 'soft-delete', 'deleted', 'error',
                            'shelved', 'shelved_offloaded')),
    task_state        text CHECK (task_state ~ '^[a-z][a-z_-]*$'),
    -- nova.compute.power_state (= virDomainState): 0 nostate, 1 running, 3 paused,
    -- 4 shutdown, 6 crashed, 7 suspended
    power_state       smallint NOT NULL DEFAULT 0 CHECK (power_state IN (0, 1, 3, 4, 6, 7)),
    task_deadline     timestamptz,
    launched_at       timestamptz,
    terminated_at     timestamptz,
    availability_zone text,
    locked            boolean NOT NULL DEFAULT false,
    locked_reason     text,
    key_name          text,
    key_data          text,
    user_data         text CHECK (length(user_data) <= 65535),
    config_drive      boolean NOT NULL DEFAULT false,
    request_spec      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(request_spec) = 'object'),
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    alternates        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(alternates) = 'array'),
    idempotency_key   text,
    progress          integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    deleted           boolean NOT NULL DEFAULT false,
    deleted_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, idempotency_key),
    CHECK (deleted = (deleted_at IS NOT NULL)),
    CHECK (task_deadline IS NULL OR task_state IS NOT NULL),
    CHECK (locked OR locked_reason IS NULL)
);
CREATE INDEX instances_project_idx ON instances (project_id, created_at DESC, id)
    WHERE NOT deleted;
CREATE INDEX instances_project_name_idx ON instances (project_id, name) WHERE NOT deleted;
CREATE INDEX instances_host_idx ON instances (host) WHERE NOT deleted;
CREATE INDEX instances_deadline_idx ON instances (task_deadline)
    WHERE task_deadline IS NOT NULL;
CREATE INDEX instances_updated_idx ON instances (updated_at);

CREATE TABLE instance_metadata (
    instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    key         text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    value       text NOT NULL CHECK (length(value) <= 255),
    PRIMARY KEY (instance_id, key)
);

CREATE TABLE instance_tags (
    instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    tag         text NOT NULL CHECK (length(tag) BETWEEN 1 AND 60 AND tag !~ '[,/]'),
    PRIMARY KEY (instance_id, tag)
);
CREATE INDEX instance_tags_tag_idx ON instance_tags (tag);

CREATE TABLE instance_actions (
    id          bigserial PRIMARY KEY,
    instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    request_id  text NOT NULL,
    action      text NOT NULL CHECK (action ~ '^[A-Za-z][A-Za-z_]*$'),
    project_id  uuid,
    user_id     uuid,
    message     text,
    start_time  timestamptz NOT NULL DEFAULT now(),
    finish_time timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (instance_id, request_id),
    CHECK (finish_time IS NULL OR finish_time >= start_time)
);

CREATE TABLE instance_action_events (
    id          bigserial PRIMARY KEY,
    action_id   bigint NOT NULL REFERENCES instance_actions (id) ON DELETE CASCADE,
    event       text NOT NULL,
    host        text,
    start_time  timestamptz NOT NULL DEFAULT now(),
    finish_time timestamptz,
    result      text CHECK (result IN ('Success', 'Error')),
    traceback   text,
    details     text,
    CHECK ((result IS NULL) = (finish_time IS NULL))
);
CREATE INDEX instance_action_events_action_idx ON instance_action_events (action_id);

CREATE TABLE instance_faults (
    id          bigserial PRIMARY KEY,
    instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    code        integer NOT NULL CHECK (code BETWEEN 100 AND 599),
    message     text NOT NULL,
    details     text,
    host        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instance_faults_instance_idx ON instance_faults (instance_id, created_at DESC);

CREATE TABLE keypairs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9 _.@-]{1,255}$'),
    type        text NOT NULL DEFAULT 'ssh' CHECK (type IN ('ssh', 'x509')),
    public_key  text NOT NULL,
    fingerprint text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name)
);

CREATE TABLE server_groups (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    policy     text NOT NULL
        CHECK (policy IN ('affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity')),
    rules      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(rules) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (rules = '{}' OR policy = 'anti-affinity')
);
CREATE INDEX server_groups_project_idx ON server_groups (project_id);

CREATE TABLE server_group_members (
    group_id    uuid NOT NULL REFERENCES server_groups (id) ON DELETE CASCADE,
    instance_id uuid NOT NULL UNIQUE REFERENCES instances (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, instance_id)
);

-- Allocations: what each consumer (instance) holds of each provider's resource class.
-- The inventory FK makes deleting an inventory in use fail (placement's InventoryInUse).
CREATE TABLE allocations (
    id             bigserial PRIMARY KEY,
    consumer_id    uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    provider_id    uuid NOT NULL,
    resource_class text NOT NULL,
    amount         bigint NOT NULL CHECK (amount > 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer_id, provider_id, resource_class),
    FOREIGN KEY (provider_id, resource_class)
        REFERENCES inventories (provider_id, resource_class) ON DELETE RESTRICT
);
CREATE INDEX allocations_provider_idx ON allocations (provider_id, resource_class);

-- Pinned host CPUs per instance: the primary key forbids pinning one CPU twice.
CREATE TABLE numa_pinned_cpus (
    host_id     uuid NOT NULL,
    cell_id     integer NOT NULL,
    cpu         integer NOT NULL CHECK (cpu >= 0),
    instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    PRIMARY KEY (host_id, cpu),
    FOREIGN KEY (host_id, cell_id) REFERENCES numa_cells (host_id, cell_id) ON DELETE CASCADE
);
CREATE INDEX numa_pinned_cpus_instance_idx ON numa_pinned_cpus (instance_id);

-- Memory an instance's guest NUMA node takes from a host cell.
CREATE TABLE numa_instance_cells (
    instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    host_id     uuid NOT NULL,
    cell_id     integer NOT NULL,
    memory_mb   bigint NOT NULL CHECK (memory_mb >= 0),
    pagesize_kb integer CHECK (pagesize_kb > 0),
    PRIMARY KEY (instance_id, host_id, cell_id),
    FOREIGN KEY (host_id, cell_id) REFERENCES numa_cells (host_id, cell_id) ON DELETE CASCADE
);
CREATE INDEX numa_instance_cells_cell_idx ON numa_instance_cells (host_id, cell_id);

CREATE TABLE pci_devices (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    host_id          uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    provider_id      uuid REFERENCES resource_providers (id) ON DELETE SET NULL,
    address          text NOT NULL
        CHECK (address ~ '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$'),
    vendor_id        text NOT NULL CHECK (vendor_id ~ '^[0-9a-f]{4}$'),
    product_id       text NOT NULL CHECK (product_id ~ '^[0-9a-f]{4}$'),
    dev_type         text NOT NULL CHECK (dev_type IN ('type-PCI', 'type-PF', 'type-VF')),
    parent_addr      text,
    dev_name         text,
    label            text,
    physical_network text,
    numa_node        integer CHECK (numa_node >= 0),
    status           text NOT NULL DEFAULT 'available'
        CHECK (status IN ('available', 'claimed', 'allocated', 'unavailable', 'unclaimable',
                          'removed')),
    instance_id      uuid REFERENCES instances (id) ON DELETE SET NULL,
    extra            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (host_id, address),
    FOREIGN KEY (host_id, parent_addr)
        REFERENCES pci_devices (host_id, address) ON DELETE CASCADE,
    CHECK ((dev_type = 'type-VF') = (parent_addr IS NOT NULL)),
    CHECK (status NOT IN ('claimed', 'allocated') OR instance_id IS NOT NULL)
);
CREATE INDEX pci_devices_host_status_idx ON pci_devices (host_id, status);
CREATE INDEX pci_devices_instance_idx ON pci_devices (instance_id) WHERE instance_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- networking
-- ---------------------------------------------------------------------------
CREATE TABLE networks (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id            uuid NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    name                  text NOT NULL DEFAULT '',
    mtu                   integer NOT NULL DEFAULT 1442 CHECK (mtu BETWEEN 68 AND 65535),
    shared                boolean NOT NULL DEFAULT false,
    external              boolean NOT NULL DEFAULT false,
    network_type          text NOT NULL DEFAULT 'geneve'
        CHECK (network_type IN ('geneve', 'vxlan', 'vlan', 'flat', 'local')),
    physical_network      text,
    segmentation_id       integer CHECK (segmentation_id > 0),
    admin_state_up        boolean NOT NULL DEFAULT true,
    status                text NOT NULL DEFAULT 'ACTIVE'
        CHECK (status IN ('ACTIVE', 'DOWN', 'BUILD', 'ERROR')),
    port_security_enabled boolean NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (network_type NOT IN ('flat', 'vlan') OR physical_network IS NOT NULL),
    CHECK (network_type <> 'vlan' OR segmentation_id BETWEEN 1 AND 4094),
    CHECK (network_type NOT IN ('flat', 'local') OR segmentation_id IS NULL)
);
CREATE INDEX networks_project_idx ON networks (project_id);
CREATE UNIQUE INDEX networks_segment_uq
    ON networks (network_type, coalesce(physical_network, ''), segmentation_id)
    WHERE segmentation_id IS NOT NULL;
CREATE UNIQUE INDEX networks_flat_uq ON networks (physical_network) WHERE network_type = 'flat';

CREATE TABLE subnets (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    network_id       uuid NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    project_id       uuid NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    name             text NOT NULL DEFAULT '',
    ip_version       smallint NOT NULL CHECK (ip_version IN (4, 6)),
    cidr             cidr NOT NULL,
    gateway_ip       inet,
    enable_dhcp      boolean NOT NULL DEFAULT true,
    dns_nameservers  inet[] NOT NULL DEFAULT '{}',
    allocation_pools jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(allocation_pools) = 'array'),
    host_routes      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(host_routes) = 'array'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (network_id, cidr),
    CHECK (family(cidr) = ip_version),
    CHECK (gateway_ip IS NULL OR gateway_ip << cidr)
);
CREATE INDEX subnets_project_idx ON subnets (project_id);

CREATE TABLE security_groups (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) <= 255),
    description text NOT NULL DEFAULT '',
    stateful    boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX security_groups_project_idx ON security_groups (project_id);
CREATE UNIQUE INDEX security_groups_default_uq ON security_groups (project_id)
    WHERE name = 'default';

CREATE TABLE security_group_rules (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    security_group_id uuid NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
    direction         text NOT NULL CHECK (direction IN ('ingress', 'egress')),
    ethertype         text NOT NULL DEFAULT 'IPv4' CHECK (ethertype IN ('IPv4', 'IPv6')),
    protocol          text,
    port_range_min    integer CHECK (port_range_min BETWEEN 0 AND 65535),
    port_range_max    integer CHECK (port_range_max BETWEEN 0 AND 65535),
    remote_ip_prefix  cidr,
    remote_group_id   uuid REFERENCES security_groups (id) ON DELETE CASCADE,
    description       text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (port_range_max IS NULL OR port_range_min IS NULL OR port_range_max >= port_range_min),
    CHECK (remote_ip_prefix IS NULL OR remote_group_id IS NULL),
    UNIQUE NULLS NOT DISTINCT (security_group_id, direction, ethertype, protocol,
                               port_range_min, port_range_max, remote_ip_prefix, remote_group_id)
);
CREATE INDEX security_group_rules_remote_idx ON security_group_rules (remote_group_id)
    WHERE remote_group_id IS NOT NULL;

CREATE TABLE ports (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    network_id            uuid NOT NULL REFERENCES networks (id) ON DELETE RESTRICT,
    project_id            uuid NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    name                  text NOT NULL DEFAULT '',
    mac_address           macaddr NOT NULL,
    admin_state_up        boolean NOT NULL DEFAULT true,
    status                text NOT NULL DEFAULT 'DOWN'
        CHECK (status IN ('ACTIVE', 'DOWN', 'BUILD', 'ERROR')),
    device_id             text NOT NULL DEFAULT '',
    device_owner          text NOT NULL DEFAULT '',
    binding_host          text REFERENCES hosts (name) ON UPDATE CASCADE ON DELETE SET NULL,
    binding_vnic_type     text NOT NULL DEFAULT 'normal'
        CHECK (binding_vnic_type IN ('normal', 'direct', 'direct-physical', 'macvtap',
                                     'virtio-forwarder', 'vdpa', 'remote-managed')),
    binding_vif_type      text NOT NULL DEFAULT 'unbound',
    binding_profile       jsonb NOT NULL DEFAULT '{}'
        CHECK (jsonb_typeof(binding_profile) = 'object'),
    binding_vif_details   jsonb NOT NULL DEFAULT '{}'
        CHECK (jsonb_typeof(binding_vif_details) = 'object'),
    port_security_enabled boolean NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (network_id, mac_address)
);
CREATE INDEX ports_project_idx ON ports (project_id);
CREATE INDEX ports_device_idx ON ports (device_id) WHERE device_id <> '';
CREATE INDEX ports_binding_host_idx ON ports (binding_host) WHERE binding_host IS NOT NULL;

CREATE TABLE port_security_groups (
    port_id           uuid NOT NULL REFERENCES ports (id) ON DELETE CASCADE,
    security_group_id uuid NOT NULL REFERENCES security_groups (id) ON DELETE RESTRICT,
    PRIMARY KEY (port_id, security_group_id)
);
CREATE INDEX port_security_groups_group_idx ON port_security_groups (security_group_id);

-- Fixed IPs: one address is held by at most one port per subnet.
CREATE TABLE ip_allocations (
    subnet_id  uuid NOT NULL REFERENCES subnets (id) ON DELETE RESTRICT,
    ip_address inet NOT NULL,
    port_id    uuid NOT NULL REFERENCES ports (id) ON DELETE CASCADE,
    network_id uuid NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subnet_id, ip_address),
    CHECK (masklen(ip_address) = CASE family(ip_address) WHEN 4 THEN 32 ELSE 128 END)
);
CREATE INDEX ip_allocations_port_idx ON ip_allocations (port_id);

CREATE TABLE routers (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id               uuid NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    name                     text NOT NULL DEFAULT '',
    admin_state_up           boolean NOT NULL DEFAULT true,
    status                   text NOT NULL DEFAULT 'ACTIVE'
        CHECK (status IN ('ACTIVE', 'DOWN', 'BUILD', 'ERROR')),
    distributed              boolean NOT NULL DEFAULT true,
    external_network_id      uuid REFERENCES networks (id) ON DELETE RESTRICT,
    external_gateway_port_id uuid UNIQUE REFERENCES ports (id) ON DELETE SET NULL,
    enable_snat              boolean NOT NULL DEFAULT true,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK (external_gateway_port_id IS NULL OR external_network_id IS NOT NULL)
);
CREATE INDEX routers_project_idx ON routers (project_id);

CREATE TABLE router_interfaces (
    router_id uuid NOT NULL REFERENCES routers (id) ON DELETE CASCADE,
    port_id   uuid NOT NULL UNIQUE REFERENCES ports (id) ON DELETE CASCADE,
    subnet_id uuid NOT NULL REFERENCES subnets (id) ON DELETE RESTRICT,
    PRIMARY KEY (router_id, port_id),
    UNIQUE (router_id, subnet_id)
);
CREATE INDEX router_interfaces_subnet_idx ON router_interfaces (subnet_id);

CREATE TABLE floating_ips (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id          uuid NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    floating_network_id uuid NOT NULL REFERENCES networks (id) ON DELETE RESTRICT,
    floating_ip_address inet NOT NULL UNIQUE,
    floating_port_id    uuid UNIQUE REFERENCES ports (id) ON DELETE CASCADE,
    fixed_port_id       uuid REFERENCES ports (id) ON DELETE SET NULL,
    fixed_ip_address    inet,
    router_id           uuid REFERENCES routers (id) ON DELETE SET NULL,
    status              text NOT NULL DEFAULT 'DOWN'
        CHECK (status IN ('ACTIVE', 'DOWN', 'ERROR')),
    description         text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (fixed_port_id, fixed_ip_address)
);
CREATE INDEX floating_ips_project_idx ON floating_ips (project_id);
CREATE INDEX floating_ips_router_idx ON floating_ips (router_id) WHERE router_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- block storage
-- ---------------------------------------------------------------------------
CREATE TABLE volumes (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id        uuid NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    user_id           uuid NOT NULL,
    name              text NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT '',
    size_gb           integer NOT NULL CHECK (size_gb > 0),
    status            text NOT NULL DEFAULT 'creating'
        CHECK (status IN ('creating', 'available', 'reserved', 'attaching', 'in-use',
                          'detaching', 'maintenance', 'deleting', 'awaiting-transfer',
                          'error', 'error_deleting', 'extending', 'error_extending',
                          'downloading', 'uploading', 'retyping', 'backing-up',
                          'restoring-backup', 'error_backing-up', 'error_restoring',
                          'deleted')),
    bootable          boolean NOT NULL DEFAULT false,
    multiattach       boolean NOT NULL DEFAULT false,
    image_id          uuid,
    source_volume_id  uuid REFERENCES volumes (id) ON DELETE SET NULL,
    volume_type       text,
    availability_zone text,
    host              text,  -- backend, e.g. "storage-1@rbd#volumes"
    provider_location text,  -- e.g. "volumes/volume-<id>"
    metadata          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    deleted           boolean NOT NULL DEFAULT false,
    deleted_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (deleted = (deleted_at IS NOT NULL))
);
CREATE INDEX volumes_project_idx ON volumes (project_id, created_at DESC) WHERE NOT deleted;

CREATE TABLE volume_attachments (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    volume_id             uuid NOT NULL REFERENCES volumes (id) ON DELETE CASCADE,
    instance_id           uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    attached_host         text,
    device                text,
    boot_index            integer CHECK (boot_index >= 0),
    delete_on_termination boolean NOT NULL DEFAULT false,
    attach_mode           text NOT NULL DEFAULT 'rw' CHECK (attach_mode IN ('rw', 'ro')),
    connector             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(connector) = 'object'),
    connection_info       jsonb NOT NULL DEFAULT '{}'
        CHECK (jsonb_typeof(connection_info) = 'object'),
    status                text NOT NULL DEFAULT 'reserved'
        CHECK (status IN ('reserved', 'attaching', 'attached', 'detaching', 'detached',
                          'error_attaching', 'error_detaching')),
    created_at            timestamptz NOT NULL DEFAULT now(),
    attached_at           timestamptz,
    detached_at           timestamptz,
    CHECK ((status = 'detached') = (detached_at IS NOT NULL))
);
CREATE UNIQUE INDEX volume_attachments_live_uq ON volume_attachments (volume_id, instance_id)
    WHERE status <> 'detached';
CREATE UNIQUE INDEX volume_attachments_device_uq ON volume_attachments (instance_id, device)
    WHERE status <> 'detached' AND device IS NOT NULL;
CREATE INDEX volume_attachments_instance_idx ON volume_attachments (instance_id);

-- ---------------------------------------------------------------------------
-- the conductor's bookkeeping
-- ---------------------------------------------------------------------------
-- Transactional outbox. Writers append rows in their state-change transaction. The
-- relay, holding the single-row counter below locked, gives unassigned rows the next
-- sequence numbers in id order and commits (published_seq), then publishes them and sets
-- published_at. A crash between the two republishes the same sequence numbers, so
-- consumers see duplicates with identical numbers, never gaps or reordering.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    event_type    text NOT NULL CHECK (event_type ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$'),
    payload       jsonb NOT NULL,
    request_id    text,
    published_seq bigint UNIQUE CHECK (published_seq > 0),
    published_at  timestamptz,
    CHECK (published_at IS NULL OR published_seq IS NOT NULL)
);
CREATE INDEX outbox_unassigned_idx ON outbox (id) WHERE published_seq IS NULL;
CREATE INDEX outbox_unpublished_idx ON outbox (published_seq)
    WHERE published_seq IS NOT NULL AND published_at IS NULL;
CREATE INDEX outbox_created_idx ON outbox (created_at);

CREATE TABLE notification_sequence (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_seq  bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);
INSERT INTO notification_sequence DEFAULT VALUES;

-- Per-resource fact sequences: the last sequence accepted from a host for a resource.
CREATE TABLE fact_sequences (
    resource_kind text NOT NULL,
    resource_id   text NOT NULL,
    host          text NOT NULL,
    last_seq      bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (resource_kind, resource_id, host)
);

-- Processed message ids and request idempotency keys with the result first returned.
CREATE TABLE idempotency_keys (
    scope      text NOT NULL,
    key        text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    result     jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Long-running workflows (build, resize, ...): the step reached, its deadline and the
-- data needed to resume, so another conductor can pick them up after a restart.
CREATE TABLE workflows (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]*$'),
    instance_id uuid REFERENCES instances (id) ON DELETE CASCADE,
    step        text NOT NULL,
    state       text NOT NULL DEFAULT 'running'
        CHECK (state IN ('running', 'waiting', 'succeeded', 'failed', 'cancelled')),
    deadline    timestamptz,
    payload     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    owner       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (state IN ('running', 'waiting') OR deadline IS NULL)
);
CREATE INDEX workflows_deadline_idx ON workflows (deadline)
    WHERE state IN ('running', 'waiting');
CREATE INDEX workflows_instance_idx ON workflows (instance_id);
CREATE UNIQUE INDEX workflows_one_live_per_instance_uq ON workflows (instance_id)
    WHERE state IN ('running', 'waiting') AND instance_id IS NOT NULL;
