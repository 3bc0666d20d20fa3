-- Large exports run as jobs that write a file to export storage; progress and reuse need these.
ALTER TABLE "Export" ADD COLUMN "delivery" TEXT NOT NULL DEFAULT 'stream';
ALTER TABLE "Export" ADD COLUMN "fingerprint" TEXT;
ALTER TABLE "Export" ADD COLUMN "totalRows" INTEGER;
ALTER TABLE "Export" ADD COLUMN "startedAt" DATETIME;
CREATE INDEX "Export_status_createdAt_idx" ON "Export"("status", "createdAt");
CREATE INDEX "Export_userId_fingerprint_idx" ON "Export"("userId", "fingerprint");
