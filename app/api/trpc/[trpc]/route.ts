import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { createTrpcContext } from '@/server/trpc/init';
import { appRouter } from '@/server/trpc/root';

export const dynamic = 'force-dynamic';

async function handler(req: Request): Promise<Response> {
  const response = await fetchRequestHandler({
    endpoint: '/api/trpc',
    req,
    router: appRouter,
    createContext: ({ req, resHeaders }) => createTrpcContext({ req, resHeaders }),
  });
  // Server-sent events (export progress) must reach the browser event by event: gzip would hold
  // them back until a buffer fills, so they are marked not to be transformed.
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return response;
  const headers = new Headers(response.headers);
  headers.set('Cache-Control', 'no-cache, no-transform');
  headers.set('X-Accel-Buffering', 'no');
  return new Response(response.body, { status: response.status, headers });
}

export { handler as GET, handler as POST };
