-- A ZIP's members can each have their own format ("each its own").
ALTER TABLE "ExportItem" ADD COLUMN "format" TEXT;
