import { writableFormatSchema } from '@/lib/export-request';
import { sessionTokenFromCookieHeader, userForSessionToken, type SessionUser } from '../auth/service';
import { InvalidRequestError, NotFoundError } from '../errors';
import { getAppServices, type AppServices } from '../services';
import { startExportDownload, startQueryRunDownload, type ExportDownload } from './service';

function problem(status: number, message: string): Response {
  return Response.json({ error: message }, { status, headers: { 'Cache-Control': 'no-store' } });
}

/** Session check, then the download; service errors become 400/404 with a sentence, never a stack. */
async function serveDownload(request: Request, services: AppServices | undefined, start: (app: AppServices, user: SessionUser) => Promise<ExportDownload | Response>): Promise<Response> {
  const app = services ?? (await getAppServices());
  const user = await userForSessionToken(app.db, sessionTokenFromCookieHeader(request.headers.get('cookie')));
  if (!user) return problem(401, 'Please sign in to download exports.');
  try {
    const download = await start(app, user);
    if (download instanceof Response) return download;
    return new Response(download.body, { status: 200, headers: download.headers });
  } catch (error) {
    if (error instanceof NotFoundError) return problem(404, error.message);
    if (error instanceof InvalidRequestError) return problem(400, error.message);
    console.error('[download] failed', error);
    return problem(500, 'The export could not start. Please try again.');
  }
}

/** GET /api/query-runs/:runId/download?format=csv|json — the whole result, streamed. */
export function handleQueryRunDownload(request: Request, runId: string, services?: AppServices): Promise<Response> {
  return serveDownload(request, services, (app, user) => {
    const format = writableFormatSchema.safeParse(new URL(request.url).searchParams.get('format') ?? 'csv');
    if (!format.success) return Promise.resolve(problem(400, 'Unknown format: choose csv or json.'));
    return startQueryRunDownload(app, user, runId, format.data);
  });
}

/** GET /api/exports/:exportId/download — an export the assistant prepared: one file or a ZIP. */
export function handleExportDownload(request: Request, exportId: string, services?: AppServices): Promise<Response> {
  return serveDownload(request, services, (app, user) => startExportDownload(app, user, exportId));
}
