import { SESSION_COOKIE } from '@/server/auth/service';
import { parserRouter, type MessageRouter } from '@/server/chat/service';
import { createTrpcContext } from '@/server/trpc/init';
import { createCaller } from '@/server/trpc/root';
import type { TestApp } from './databases';

/**
 * A tRPC caller as the browser with this session cookie (or none) would reach it. Messages go
 * through the fallback parser unless a test passes another router (the OpenAI one, offline mode).
 */
export async function callerFor(app: TestApp, token?: string, router: MessageRouter = parserRouter) {
  const resHeaders = new Headers();
  const req = new Request('http://localhost:3000/api/trpc', { headers: token ? { cookie: `${SESSION_COOKIE}=${token}` } : {} });
  const caller = createCaller(await createTrpcContext({ req, resHeaders, services: app.services, router }));
  return { caller, resHeaders };
}
