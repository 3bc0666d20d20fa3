import { createHash } from 'node:crypto';
import type { ExportDelivery, ExportFormat } from '@/lib/export-request';
import { exportOptionsSchema, type ExportOptions } from '@/lib/preferences';
import type { AppServices } from '../app-services';
import type { SessionUser } from '../auth/service';
import type { Export } from '../db/client';
import { getEnv } from '../env';
import { NotFoundError } from '../errors';
import { getPreferences } from '../preferences/service';
import { checkSql } from '../query/service';
import { DEFAULT_ENCODER_OPTIONS } from './encoders';
import { checkExportRateLimit } from './rate-limit';

// An export is planned once: what it holds, each member's format, the encoder options, how it is
// delivered and its reuse key are decided here and stored on the Export row. Running it (runExport)
// reads only that row, so a stream, a job and a job run again later all write the same bytes.

/**
 * The one stream-or-job rule: above EXPORT_JOB_THRESHOLD_ROWS an export becomes a job with progress
 * and a kept file. An unknown size (SQL sent through the API) streams: its caller waits for the bytes.
 */
export function deliveryFor(totalRows: number | null): ExportDelivery {
  return totalRows !== null && totalRows > getEnv().EXPORT_JOB_THRESHOLD_ROWS ? 'file' : 'stream';
}

/** What identifies "the same export": each member's SQL and format, the archive flag and the options. */
export function exportFingerprint(
  members: Array<{ sql: string; format: ExportFormat }>,
  format: ExportFormat,
  archive: boolean,
  options: ExportOptions,
): string {
  const sqls = members.map((member) => `${member.format}:${member.sql}`);
  return createHash('sha256').update(JSON.stringify({ sqls, format, archive, options })).digest('hex');
}

/** The options an export was planned with; exports recorded before the snapshot existed use the defaults. */
export function exportOptionsOf(record: Pick<Export, 'options'>): ExportOptions {
  if (!record.options) return DEFAULT_ENCODER_OPTIONS;
  const parsed = exportOptionsSchema.safeParse(JSON.parse(record.options));
  return parsed.success ? parsed.data : DEFAULT_ENCODER_OPTIONS;
}

async function currentExportOptions(app: AppServices, userId: string): Promise<ExportOptions> {
  const preferences = await getPreferences(app.db, userId);
  return exportOptionsSchema.parse(preferences);
}

export interface ExportPlanRequest {
  /** The user's query runs (chat results, history's selection), or SQL sent through the API. */
  contents: { queryRunIds: string[]; memberFormats?: Record<string, ExportFormat> } | { sql: string; title?: string };
  format: ExportFormat;
  archive: boolean;
  chatId: string | null;
  /** The caller can only take the bytes now (a download link): it streams whatever its size. */
  streamOnly?: boolean;
}

/** A planned export: a new queued one, or a finished file of the same export still kept (`reused`). */
export interface PlannedExport {
  record: Export;
  delivery: ExportDelivery;
  totalRows: number | null;
  reused: boolean;
}

/**
 * Plans and records one of the user's exports. Every query run must be theirs (else NOT_FOUND, as if
 * it did not exist); SQL is guarded first. A job with the same fingerprint whose file is still kept
 * is reused instead of run again; anything new counts against the rate limit and, when it is a job,
 * is queued.
 */
export async function planExport(
  app: AppServices,
  user: SessionUser,
  request: ExportPlanRequest,
): Promise<PlannedExport> {
  const { contents, format } = request;
  let members: Array<{ sql: string; format: ExportFormat }>;
  let totalRows: number | null;
  let queryRunIds: string[] = [];
  let sqlExport: { sql: string; title: string } | null = null;
  if ('sql' in contents) {
    const guarded = await checkSql(app.dataSource, contents.sql);
    sqlExport = { sql: guarded.sql, title: contents.title ?? (guarded.tables.join(', ') || 'export') };
    members = [{ sql: guarded.sql, format }];
    totalRows = null;
  } else {
    queryRunIds = [...new Set(contents.queryRunIds)];
    const runs = await app.db.queryRun.findMany({
      where: { id: { in: queryRunIds }, userId: user.id },
      select: { id: true, sql: true, rowCount: true },
    });
    // All of them the user's, or none: one foreign id refuses the whole request.
    if (runs.length !== queryRunIds.length)
      throw new NotFoundError(queryRunIds.length === 1 ? 'That query result' : 'One of those query results');
    const ordered = queryRunIds.map((id) => runs.find((run) => run.id === id)!);
    members = ordered.map((run) => ({ sql: run.sql, format: contents.memberFormats?.[run.id] ?? format }));
    totalRows = ordered.reduce((sum, run) => sum + run.rowCount, 0);
  }

  const archive = request.archive || queryRunIds.length > 1;
  const delivery = request.streamOnly ? 'stream' : deliveryFor(totalRows);
  const options = await currentExportOptions(app, user.id);
  const fingerprint = exportFingerprint(members, format, archive, options);
  if (delivery === 'file') {
    const ready = await app.db.export.findFirst({
      where: { userId: user.id, fingerprint, status: 'succeeded', delivery: 'file', expiresAt: { gt: new Date() } },
      orderBy: { finishedAt: 'desc' },
    });
    if (ready) return { record: ready, delivery, totalRows, reused: true };
  }

  await checkExportRateLimit(app.db, user.id, getEnv().EXPORT_RATE_LIMIT_PER_MINUTE);
  const memberFormats = 'sql' in contents ? undefined : contents.memberFormats;
  const record = await app.db.export.create({
    data: {
      userId: user.id,
      chatId: request.chatId,
      format,
      archive,
      sql: sqlExport?.sql ?? null,
      title: sqlExport?.title ?? null,
      status: 'queued',
      delivery,
      totalRows,
      fingerprint,
      options: JSON.stringify(options),
      items: {
        create: queryRunIds.map((queryRunId, index) => ({
          queryRunId,
          position: index + 1,
          format: memberFormats?.[queryRunId] ?? null,
        })),
      },
    },
  });
  if (delivery === 'file') app.jobs.enqueue(record.id);
  return { record, delivery, totalRows, reused: false };
}
