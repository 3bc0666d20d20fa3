-- Exports remember the chat they were asked for in (for "cancel") and whether they are one ZIP.
ALTER TABLE "Export" ADD COLUMN "chatId" TEXT;
ALTER TABLE "Export" ADD COLUMN "archive" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Export" ADD CONSTRAINT "Export_chatId_fkey" FOREIGN KEY ("chatId") REFERENCES "Chat"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "Export_chatId_status_idx" ON "Export"("chatId", "status");
