-- Identity administration (Keystone's projects, users and roles API): descriptions on
-- users and roles, and the four roles every deployment has. The built-in roles are
-- inserted here, not by the seed, so a database migrated without `skymesh up` still
-- has them; the conductor refuses to delete them (they are what policy checks name).
ALTER TABLE users ADD COLUMN IF NOT EXISTS description text NOT NULL DEFAULT '';
ALTER TABLE roles ADD COLUMN IF NOT EXISTS description text NOT NULL DEFAULT '';
ALTER TABLE roles ADD COLUMN IF NOT EXISTS immutable boolean NOT NULL DEFAULT false;

INSERT INTO roles (name, description, immutable) VALUES
    ('admin', 'Administers the cloud: every project and every resource', true),
    ('member', 'Creates and manages the resources of a project', true),
    ('reader', 'Reads the resources of a project', true),
    ('service', 'A service acting on behalf of users', true)
ON CONFLICT (name) DO UPDATE SET immutable = true;
