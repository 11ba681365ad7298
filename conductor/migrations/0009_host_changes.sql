-- Host changes, so schedulers fetch only the hosts changed since their last view.
--
-- Every write that changes what a scheduler knows of a host (the host row except its
-- heartbeat, its providers' generations (inventory and allocations bump them), its
-- aggregates and their metadata, traits, PCI devices, NUMA cells, and instances
-- arriving, leaving or starting and ending a task there) appends a row naming the host
-- and the writing transaction's id. Appending (no upsert) takes no row lock, so these
-- triggers cannot deadlock with the plan apply's provider locks.
--
-- A reader's cursor is the xmin of its snapshot: every transaction with a smaller id had
-- ended when it read, so the rows with `xid >= cursor` cover everything it may not have
-- seen (a few twice, which is harmless). Rows older than the retention are pruned, and
-- `host_change_horizon` keeps the highest pruned xid: a cursor at or below it has missed
-- changes and gets a whole view.

ALTER TABLE hosts ADD COLUMN IF NOT EXISTS failed_builds integer NOT NULL DEFAULT 0
    CHECK (failed_builds >= 0);

CREATE TABLE IF NOT EXISTS host_changes (
    id      bigserial PRIMARY KEY,
    host_id uuid NOT NULL,
    xid     bigint NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS host_changes_xid_idx ON host_changes (xid);
CREATE INDEX IF NOT EXISTS host_changes_at_idx ON host_changes (at);

CREATE TABLE IF NOT EXISTS host_change_horizon (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    xid      bigint NOT NULL DEFAULT 0
);
INSERT INTO host_change_horizon DEFAULT VALUES ON CONFLICT DO NOTHING;

-- A row change on a table naming its host in column TG_ARGV[0]: note the old and the
-- new host.
CREATE OR REPLACE FUNCTION note_host_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_id uuid;
    new_id uuid;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_id := (to_jsonb(OLD) ->> TG_ARGV[0])::uuid;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        new_id := (to_jsonb(NEW) ->> TG_ARGV[0])::uuid;
    END IF;
    IF old_id IS NOT NULL AND old_id IS DISTINCT FROM new_id THEN
        INSERT INTO host_changes (host_id) VALUES (old_id);
    END IF;
    IF new_id IS NOT NULL THEN
        INSERT INTO host_changes (host_id) VALUES (new_id);
    END IF;
    RETURN NULL;
END $$;

-- An aggregate renamed or given other metadata: every member host changed.
CREATE OR REPLACE FUNCTION note_aggregate_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO host_changes (host_id)
        SELECT host_id FROM aggregate_hosts WHERE aggregate_id = NEW.id;
    RETURN NULL;
END $$;

-- An instance arriving on, leaving, or starting or ending a task on a host (its
-- instance count and IO operations in flight).
CREATE OR REPLACE FUNCTION note_instance_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO host_changes (host_id)
        SELECT id FROM hosts WHERE name IN (OLD.host, NEW.host);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER hosts_changed_rows AFTER INSERT OR DELETE ON hosts
    FOR EACH ROW EXECUTE FUNCTION note_host_change('id');
CREATE OR REPLACE TRIGGER hosts_changed AFTER UPDATE ON hosts
    FOR EACH ROW
    WHEN ((OLD.name, OLD.roles, OLD.availability_zone, OLD.enabled, OLD.disabled_reason,
           OLD.forced_down, OLD.agent_incarnation, OLD.capabilities, OLD.failed_builds)
          IS DISTINCT FROM
          (NEW.name, NEW.roles, NEW.availability_zone, NEW.enabled, NEW.disabled_reason,
           NEW.forced_down, NEW.agent_incarnation, NEW.capabilities, NEW.failed_builds))
    EXECUTE FUNCTION note_host_change('id');
CREATE OR REPLACE TRIGGER resource_providers_changed_rows
    AFTER INSERT OR DELETE ON resource_providers
    FOR EACH ROW EXECUTE FUNCTION note_host_change('host_id');
CREATE OR REPLACE TRIGGER resource_providers_changed AFTER UPDATE ON resource_providers
    FOR EACH ROW WHEN ((OLD.generation, OLD.host_id) IS DISTINCT FROM
                       (NEW.generation, NEW.host_id))
    EXECUTE FUNCTION note_host_change('host_id');
CREATE OR REPLACE TRIGGER aggregate_hosts_changed
    AFTER INSERT OR UPDATE OR DELETE ON aggregate_hosts
    FOR EACH ROW EXECUTE FUNCTION note_host_change('host_id');
CREATE OR REPLACE TRIGGER aggregates_changed AFTER UPDATE ON aggregates
    FOR EACH ROW WHEN ((OLD.name, OLD.metadata) IS DISTINCT FROM (NEW.name, NEW.metadata))
    EXECUTE FUNCTION note_aggregate_change();
CREATE OR REPLACE TRIGGER host_traits_changed AFTER INSERT OR UPDATE OR DELETE ON host_traits
    FOR EACH ROW EXECUTE FUNCTION note_host_change('host_id');
CREATE OR REPLACE TRIGGER pci_devices_changed AFTER INSERT OR UPDATE OR DELETE ON pci_devices
    FOR EACH ROW EXECUTE FUNCTION note_host_change('host_id');
CREATE OR REPLACE TRIGGER numa_cells_changed AFTER INSERT OR UPDATE OR DELETE ON numa_cells
    FOR EACH ROW EXECUTE FUNCTION note_host_change('host_id');
CREATE OR REPLACE TRIGGER numa_pinned_cpus_changed
    AFTER INSERT OR UPDATE OR DELETE ON numa_pinned_cpus
    FOR EACH ROW EXECUTE FUNCTION note_host_change('host_id');
CREATE OR REPLACE TRIGGER numa_instance_cells_changed
    AFTER INSERT OR UPDATE OR DELETE ON numa_instance_cells
    FOR EACH ROW EXECUTE FUNCTION note_host_change('host_id');
CREATE OR REPLACE TRIGGER instances_changed AFTER UPDATE ON instances
    FOR EACH ROW WHEN ((OLD.host, OLD.task_state, OLD.deleted) IS DISTINCT FROM
                       (NEW.host, NEW.task_state, NEW.deleted))
    EXECUTE FUNCTION note_instance_change();
