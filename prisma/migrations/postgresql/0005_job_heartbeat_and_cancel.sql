-- Jobs in worker processes: a heartbeat to notice a dead worker, and a cancel any process can request.
ALTER TABLE "Export" ADD COLUMN "heartbeatAt" TIMESTAMP(3);
ALTER TABLE "Export" ADD COLUMN "cancelRequestedAt" TIMESTAMP(3);
