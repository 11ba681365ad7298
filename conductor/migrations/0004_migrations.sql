-- Resize and cold migration records (Nova's `migrations` table), one per move of an
-- instance, and migration-based allocations: while a move is in progress the source
-- host's allocation is held by the migration (consumer = migration id), the
-- destination's by the instance, exactly as Nova does with placement consumers. Confirm
-- drops the migration's allocation; revert drops the instance's on the destination and
-- gives the migration's back to the instance.

CREATE TABLE migrations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instance_id    uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    migration_type text NOT NULL CHECK (migration_type IN ('resize', 'migration')),
    source_host    text NOT NULL,
    dest_host      text,           -- NULL until the scheduler chose it
    old_flavor     jsonb NOT NULL CHECK (jsonb_typeof(old_flavor) = 'object'),
    new_flavor     jsonb NOT NULL CHECK (jsonb_typeof(new_flavor) = 'object'),
    old_vm_state   text NOT NULL CHECK (old_vm_state IN ('active', 'stopped')),
    dest_claim     jsonb CHECK (dest_claim IS NULL OR jsonb_typeof(dest_claim) = 'object'),
    request_spec   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(request_spec) = 'object'),
    request_id     text,
    status         text NOT NULL DEFAULT 'pre-migrating'
        CHECK (status IN ('pre-migrating', 'migrating', 'post-migrating', 'finished',
                          'confirming', 'confirmed', 'reverting', 'finish-reverting',
                          'reverted', 'error')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (dest_host IS NOT NULL OR status IN ('pre-migrating', 'error'))
);
CREATE INDEX migrations_instance_idx ON migrations (instance_id, created_at DESC);
-- at most one move in progress per instance
CREATE UNIQUE INDEX migrations_in_progress_uq ON migrations (instance_id)
    WHERE status NOT IN ('confirmed', 'reverted', 'error');

-- A consumer is an instance or a migration now: the foreign key becomes a trigger.
ALTER TABLE allocations DROP CONSTRAINT allocations_consumer_id_fkey;

CREATE FUNCTION allocations_check_consumer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM instances WHERE id = NEW.consumer_id)
       AND NOT EXISTS (SELECT 1 FROM migrations WHERE id = NEW.consumer_id) THEN
        RAISE foreign_key_violation
            USING MESSAGE = format('allocation consumer %s is neither an instance nor a '
                                   'migration', NEW.consumer_id);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER allocations_consumer_exists
    BEFORE INSERT OR UPDATE OF consumer_id ON allocations
    FOR EACH ROW EXECUTE FUNCTION allocations_check_consumer();

-- what ON DELETE CASCADE did, for both kinds of consumer
CREATE FUNCTION allocations_drop_consumer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM allocations WHERE consumer_id = OLD.id;
    RETURN OLD;
END $$;

CREATE TRIGGER instances_drop_allocations AFTER DELETE ON instances
    FOR EACH ROW EXECUTE FUNCTION allocations_drop_consumer();
CREATE TRIGGER migrations_drop_allocations AFTER DELETE ON migrations
    FOR EACH ROW EXECUTE FUNCTION allocations_drop_consumer();
