import { SESSION_COOKIE } from '@/server/auth/service';
import { parserRouter, type MessageRouter } from '@/server/intent/router';
import { createTrpcContext } from '@/server/trpc/init';
import { createCaller } from '@/server/trpc/root';
import type { SendEvent } from '@/server/trpc/routers/chat';
import type { TestApp } from './databases';

/**
 * A tRPC caller as the browser with this session cookie (or none) would reach it. Messages go
 * through the fallback parser unless a test passes another router (the OpenAI one, offline mode).
 */
export async function callerFor(app: TestApp, token?: string, router: MessageRouter = parserRouter) {
  const resHeaders = new Headers();
  const req = new Request('http://localhost:3000/api/trpc', {
    headers: token ? { cookie: `${SESSION_COOKIE}=${token}` } : {},
  });
  const caller = createCaller(
    await createTrpcContext({ req, resHeaders, services: app.services, messageRouter: router }),
  );
  return { caller, resHeaders };
}

type Caller = Awaited<ReturnType<typeof callerFor>>['caller'];

/** chat.send streams events; this reads them and returns the stored exchange (and the streamed text). */
export async function send(
  caller: Caller,
  input: { chatId: string | null; text: string },
): Promise<Extract<SendEvent, { type: 'done' }> & { streamed: string }> {
  let streamed = '';
  for await (const event of await caller.chat.send(input)) {
    if (event.type === 'text') streamed += event.delta;
    else return { ...event, streamed };
  }
  throw new Error('chat.send ended without an answer');
}
