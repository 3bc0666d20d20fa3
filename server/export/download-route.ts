import { exportFormatSchema } from '@/lib/export-request';
import { sessionTokenFromCookieHeader, userForSessionToken } from '../auth/service';
import { InvalidRequestError, NotFoundError } from '../errors';
import { getAppServices, type AppServices } from '../services';
import { startQueryRunDownload } from './service';

function problem(status: number, message: string): Response {
  return Response.json({ error: message }, { status, headers: { 'Cache-Control': 'no-store' } });
}

/** GET /api/query-runs/:runId/download?format=csv|json — the whole result, streamed. */
export async function handleQueryRunDownload(request: Request, runId: string, services?: AppServices): Promise<Response> {
  const app = services ?? (await getAppServices());
  const user = await userForSessionToken(app.db, sessionTokenFromCookieHeader(request.headers.get('cookie')));
  if (!user) return problem(401, 'Please sign in to download exports.');
  const format = exportFormatSchema.safeParse(new URL(request.url).searchParams.get('format') ?? 'csv');
  if (!format.success) return problem(400, 'Unknown format: choose csv or json.');
  try {
    const download = await startQueryRunDownload(app, user, runId, format.data);
    return new Response(download.body, { status: 200, headers: download.headers });
  } catch (error) {
    if (error instanceof NotFoundError) return problem(404, error.message);
    if (error instanceof InvalidRequestError) return problem(400, error.message);
    console.error('[download] failed', error);
    return problem(500, 'The export could not start. Please try again.');
  }
}
