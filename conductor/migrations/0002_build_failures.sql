-- Why each build attempt of an instance failed ({host, reason} in order), so a
-- reschedule avoids those hosts and the final fault lists every reason.
ALTER TABLE instances ADD COLUMN build_failures jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(build_failures) = 'array');
