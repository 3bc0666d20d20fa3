-- The preference to write JSON integers beyond 2^53 as strings.
ALTER TABLE "ExportPreference" ADD COLUMN "jsonBigIntegersAsText" BOOLEAN NOT NULL DEFAULT false;
