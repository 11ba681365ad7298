-- Network API (Neutron subset): the standard attributes every Neutron resource shows
-- that the schema lacked: `description` where missing, and `revision_number`, bumped
-- on each change by a trigger.

ALTER TABLE networks ADD COLUMN IF NOT EXISTS description text NOT NULL DEFAULT '';
ALTER TABLE subnets ADD COLUMN IF NOT EXISTS description text NOT NULL DEFAULT '';
ALTER TABLE ports ADD COLUMN IF NOT EXISTS description text NOT NULL DEFAULT '';
ALTER TABLE routers ADD COLUMN IF NOT EXISTS description text NOT NULL DEFAULT '';
ALTER TABLE security_group_rules ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE networks ADD COLUMN IF NOT EXISTS revision_number bigint NOT NULL DEFAULT 1;
ALTER TABLE subnets ADD COLUMN IF NOT EXISTS revision_number bigint NOT NULL DEFAULT 1;
ALTER TABLE ports ADD COLUMN IF NOT EXISTS revision_number bigint NOT NULL DEFAULT 1;
ALTER TABLE routers ADD COLUMN IF NOT EXISTS revision_number bigint NOT NULL DEFAULT 1;
ALTER TABLE security_groups ADD COLUMN IF NOT EXISTS revision_number bigint NOT NULL DEFAULT 1;
ALTER TABLE security_group_rules ADD COLUMN IF NOT EXISTS revision_number bigint NOT NULL DEFAULT 1;
ALTER TABLE floating_ips ADD COLUMN IF NOT EXISTS revision_number bigint NOT NULL DEFAULT 1;

-- Neutron bumps revision_number on every change of a resource; a trigger does it for
-- every writer (the network API, port binding by servers, state facts).
CREATE OR REPLACE FUNCTION bump_revision_number() RETURNS trigger AS $$
BEGIN
    NEW.revision_number := OLD.revision_number + 1;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['networks', 'subnets', 'ports', 'routers', 'security_groups',
                             'security_group_rules', 'floating_ips']
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_revision', t);
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW '
            'WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bump_revision_number()',
            t || '_revision', t);
    END LOOP;
END;
$$;
