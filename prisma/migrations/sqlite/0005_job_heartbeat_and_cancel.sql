-- Jobs in worker processes: a heartbeat to notice a dead worker, and a cancel any process can request.
ALTER TABLE "Export" ADD COLUMN "heartbeatAt" DATETIME;
ALTER TABLE "Export" ADD COLUMN "cancelRequestedAt" DATETIME;
