-- How an assistant message was answered (JSON: model or parser, model calls, tokens, the steps taken).
ALTER TABLE "Message" ADD COLUMN "meta" TEXT;
