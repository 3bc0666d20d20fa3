-- The encoder options an export was planned with (JSON), so a job writes what was asked for even if
-- the preferences change before it runs, and its reuse key matches the file it writes.
ALTER TABLE "Export" ADD COLUMN "options" TEXT;
