import { apiExportRequestSchema, exportFormatSchema } from '@/lib/export-request';
import { userForAuthorizationHeader } from '../auth/api-tokens';
import { sessionTokenFromCookieHeader, userForSessionToken, type SessionUser } from '../auth/service';
import { describeError } from '../errors';
import { log } from '../log';
import type { AppServices } from '../app-services';
import { getAppServices } from '../services';
import { startExportDownload, startQueryRunDownload, startSqlDownload, type ExportDownload } from './service';

function problem(status: number, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: message }, { status, headers: { 'Cache-Control': 'no-store', ...headers } });
}

type Authenticate = (app: AppServices, request: Request) => Promise<SessionUser | null>;

const bySessionCookie: Authenticate = (app, request) =>
  userForSessionToken(app.db, sessionTokenFromCookieHeader(request.headers.get('cookie')));
const byBearerToken: Authenticate = (app, request) =>
  userForAuthorizationHeader(app.db, request.headers.get('authorization'));

/** Authentication, then the download; errors answer through the error table (errors.ts) with a sentence, never a stack. */
async function serveDownload(
  request: Request,
  services: AppServices | undefined,
  authenticate: Authenticate,
  start: (app: AppServices, user: SessionUser) => Promise<ExportDownload | Response>,
): Promise<Response> {
  const app = services ?? (await getAppServices());
  const user = await authenticate(app, request);
  if (!user)
    return problem(
      401,
      authenticate === byBearerToken
        ? 'Send a valid API token: Authorization: Bearer <token>.'
        : 'Please sign in to download exports.',
    );
  try {
    const download = await start(app, user);
    if (download instanceof Response) return download;
    return new Response(download.body, { status: 200, headers: download.headers });
  } catch (error) {
    const described = describeError(error, 'The export could not start. Please try again.');
    if (described.internal) log.error({ err: error }, 'download failed');
    const retryAfter: Record<string, string> =
      described.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(described.retryAfterSeconds) };
    return problem(described.status, described.message, retryAfter);
  }
}

/** GET /api/query-runs/:runId/download?format=csv|json|xlsx — the whole result, streamed. */
export function handleQueryRunDownload(request: Request, runId: string, services?: AppServices): Promise<Response> {
  return serveDownload(request, services, bySessionCookie, (app, user) => {
    const format = exportFormatSchema.safeParse(new URL(request.url).searchParams.get('format') ?? 'csv');
    if (!format.success) return Promise.resolve(problem(400, 'Unknown format: choose csv, json or xlsx.'));
    return startQueryRunDownload(app, user, runId, format.data);
  });
}

/** GET /api/exports/:exportId/download — an export the assistant prepared: one file or a ZIP. */
export function handleExportDownload(request: Request, exportId: string, services?: AppServices): Promise<Response> {
  return serveDownload(request, services, bySessionCookie, (app, user) => startExportDownload(app, user, exportId));
}

const MAX_API_BODY_BYTES = 64 * 1024;

/** POST /api/v1/exports with a bearer token and {"sql", "format"}: the whole export as the response body. */
export function handleApiExport(request: Request, services?: AppServices): Promise<Response> {
  return serveDownload(request, services, byBearerToken, async (app, user) => {
    const text = await request.text();
    if (text.length > MAX_API_BODY_BYTES)
      return problem(413, `The request body is limited to ${MAX_API_BODY_BYTES / 1024} KB.`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return problem(400, 'Send a JSON body: {"sql": "select …", "format": "csv" | "json" | "xlsx"}.');
    }
    const body = apiExportRequestSchema.safeParse(json);
    if (!body.success) return problem(400, body.error.issues[0]?.message ?? 'Invalid request.');
    return startSqlDownload(app, user, body.data);
  });
}
