-- Deadlines for the volume and port state machines (attach, detach, create, delete), so
-- the conductor's sweep settles any of them that a silent agent leaves hanging, as
-- instances.task_deadline does for servers. A port's task (attaching, detaching) is its
-- own column: Neutron's port status set has no transitional state for it.
ALTER TABLE volumes ADD COLUMN task_deadline timestamptz;
CREATE INDEX volumes_task_deadline_idx ON volumes (task_deadline)
    WHERE task_deadline IS NOT NULL;

ALTER TABLE ports ADD COLUMN task_state text CHECK (task_state IN ('attaching', 'detaching'));
ALTER TABLE ports ADD COLUMN task_deadline timestamptz;
ALTER TABLE ports ADD CONSTRAINT ports_task_deadline_ck
    CHECK ((task_state IS NULL) = (task_deadline IS NULL));
-- A port the user brought to attach_interface is unbound, not deleted, when detached
-- or when its server goes (Nova's preserve_on_delete).
ALTER TABLE ports ADD COLUMN preserve_on_delete boolean NOT NULL DEFAULT false;
CREATE INDEX ports_task_deadline_idx ON ports (task_deadline) WHERE task_deadline IS NOT NULL;
