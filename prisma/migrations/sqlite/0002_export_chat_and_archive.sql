-- Exports remember the chat they were asked for in (for "cancel") and whether they are one ZIP.
ALTER TABLE "Export" ADD COLUMN "chatId" TEXT REFERENCES "Chat" ("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Export" ADD COLUMN "archive" BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX "Export_chatId_status_idx" ON "Export"("chatId", "status");
