import { EXPORT_FORMATS, type ExportFormat } from '@/lib/export-request';
import { contentDisposition, exportFilename } from '@/lib/filename';
import type { SessionUser } from '../auth/service';
import { NotFoundError } from '../errors';
import type { RowStream } from '../query/data-source';
import { asUserFacing, checkSql } from '../query/service';
import type { AppServices } from '../services';
import { DEFAULT_ENCODER_OPTIONS, createEncoder, type ExportEncoder } from './encoders';

export interface ExportDownload {
  exportId: string;
  filename: string;
  headers: Record<string, string>;
  body: ReadableStream<Uint8Array>;
}

/**
 * Streams the whole result of one of the user's query runs. The query is opened before this returns,
 * so SQL errors surface as an error status, not a broken file; rows are then pulled from the cursor
 * only as fast as the client reads, so memory stays flat whatever the row count.
 */
export async function startQueryRunDownload(app: AppServices, user: SessionUser, queryRunId: string, format: ExportFormat): Promise<ExportDownload> {
  const run = await app.db.queryRun.findFirst({ where: { id: queryRunId, userId: user.id } });
  if (!run) throw new NotFoundError('That query result');
  const preference = await app.db.exportPreference.findUnique({ where: { userId: user.id } });
  const encoderOptions = preference ? { csvByteOrderMark: preference.csvByteOrderMark, neutraliseFormulas: preference.neutraliseFormulas } : DEFAULT_ENCODER_OPTIONS;

  const started = Date.now();
  const record = await app.db.export.create({
    data: { userId: user.id, format, status: 'running', items: { create: { queryRunId: run.id, position: 1 } } },
  });
  const finish = (data: { status: 'succeeded' | 'failed' | 'cancelled'; rowCount: number; bytes: number; error?: string }) =>
    app.db.export
      .update({ where: { id: record.id }, data: { ...data, bytes: BigInt(data.bytes), durationMs: Date.now() - started, finishedAt: new Date() } })
      .catch(() => undefined);

  let rows: RowStream;
  try {
    const guarded = await checkSql(app.dataSource, run.sql);
    rows = await app.dataSource.stream(guarded.sql);
  } catch (error) {
    const userFacing = asUserFacing(error);
    await finish({ status: 'failed', rowCount: 0, bytes: 0, error: userFacing instanceof Error ? userFacing.message : 'Export failed.' });
    throw userFacing;
  }

  const encoder = createEncoder(format, rows.columns, encoderOptions);
  const chunks = encodeRows(rows, encoder);
  const textEncoder = new TextEncoder();
  let rowCount = 0;
  let bytes = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) {
            // Recorded before the stream ends, so whoever saw the whole file also sees the record.
            await finish({ status: 'succeeded', rowCount, bytes });
            controller.close();
            return;
          }
          rowCount += next.value.rows;
          const chunk = textEncoder.encode(next.value.text);
          bytes += chunk.byteLength;
          controller.enqueue(chunk);
        } catch (error) {
          await rows.close();
          const userFacing = asUserFacing(error);
          await finish({ status: 'failed', rowCount, bytes, error: userFacing instanceof Error ? userFacing.message : 'Export failed.' });
          controller.error(userFacing);
        }
      },
      async cancel() {
        // The client went away: stop the cursor and record why the file is incomplete.
        await chunks.return(undefined);
        await rows.close();
        await finish({ status: 'cancelled', rowCount, bytes });
      },
    },
    { highWaterMark: 1 },
  );

  const filename = exportFilename(run.title, EXPORT_FORMATS[format].extension, new Date(started));
  return {
    exportId: record.id,
    filename,
    body,
    headers: {
      'Content-Type': EXPORT_FORMATS[format].contentType,
      'Content-Disposition': contentDisposition(filename),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
  };
}

async function* encodeRows(rows: RowStream, encoder: ExportEncoder): AsyncGenerator<{ text: string; rows: number }> {
  yield { text: encoder.start(), rows: 0 };
  for await (const batch of rows) yield { text: encoder.batch(batch), rows: batch.length };
  yield { text: encoder.end(), rows: 0 };
}
