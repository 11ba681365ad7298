-- Block storage API: the size a volume is being extended to, so that a failed extend
-- gives back exactly the gigabytes it charged.
ALTER TABLE volumes ADD COLUMN IF NOT EXISTS extend_to_gb integer CHECK (extend_to_gb > 0);
