import { createTRPCClient, httpBatchStreamLink, httpLink, splitLink, type TRPCClient } from '@trpc/client';
import superjson from 'superjson';
import type { ExportProgress } from '@/lib/export-progress';
import type { MessagePayload } from '@/lib/chat-message';
import type { AppRouter } from '@/server/trpc/root';

// A person using Askport over HTTP, as the browser does: tRPC for sign-up and chat, the download
// routes for files, the progress subscription as server-sent events. The session cookie goes with
// every request, to whichever web instance the caller picks.

export interface HttpUser {
  email: string;
  cookie: () => string;
  trpc: (baseUrl: string) => TRPCClient<AppRouter>;
  /** Sends a chat message and returns the assistant's last message payload and the chat. */
  say: (
    baseUrl: string,
    chatId: string | null,
    text: string,
  ) => Promise<{ chatId: string; payload: MessagePayload | null; content: string }>;
  download: (baseUrl: string, downloadPath: string) => Promise<Response>;
  /** Follows an export's progress through the SSE subscription until it ends. */
  followProgress: (
    baseUrl: string,
    exportId: string,
    onProgress?: (progress: ExportProgress) => void,
  ) => Promise<ExportProgress>;
}

export function httpUser(email: string): HttpUser {
  let cookie = '';
  const remember = (response: Response) => {
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
  };
  const fetchWithCookie: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(input, { ...init, headers });
    remember(response);
    return response;
  };
  const clients = new Map<string, TRPCClient<AppRouter>>();
  const trpc = (baseUrl: string) => {
    let client = clients.get(baseUrl);
    if (!client) {
      const url = `${baseUrl}/api/trpc`;
      client = createTRPCClient<AppRouter>({
        links: [
          splitLink({
            condition: (op) => op.path.startsWith('auth.'),
            true: httpLink({ url, transformer: superjson, fetch: fetchWithCookie }),
            false: httpBatchStreamLink({ url, transformer: superjson, fetch: fetchWithCookie }),
          }),
        ],
      });
      clients.set(baseUrl, client);
    }
    return client;
  };
  return {
    email,
    cookie: () => cookie,
    trpc,
    async say(baseUrl, chatId, text) {
      const events = await trpc(baseUrl).chat.send.mutate({ chatId, text });
      for await (const event of events) {
        if (event.type !== 'done') continue;
        const last = event.messages.at(-1);
        return {
          chatId: event.chatId,
          payload: (last?.payload ?? null) as MessagePayload | null,
          content: last?.content ?? '',
        };
      }
      throw new Error('the chat stream ended without an answer');
    },
    download: (baseUrl, downloadPath) => fetchWithCookie(`${baseUrl}${downloadPath}`),
    async followProgress(baseUrl, exportId, onProgress) {
      const input = encodeURIComponent(JSON.stringify(superjson.serialize({ exportId })));
      const response = await fetchWithCookie(`${baseUrl}/api/trpc/exports.progress?input=${input}`, {
        headers: { accept: 'text/event-stream' },
      });
      if (!response.ok || !response.body) throw new Error(`progress: HTTP ${response.status}`);
      const decoder = new TextDecoder();
      let buffered = '';
      let latest: ExportProgress | null = null;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line.startsWith('data:')) continue;
          const data = JSON.parse(line.slice(5)) as { json?: unknown } | null;
          const progress = (
            data && typeof data === 'object' && 'json' in data ? superjson.deserialize(data as never) : data
          ) as ExportProgress | null;
          if (!progress || typeof progress !== 'object' || !('status' in progress)) continue;
          latest = progress;
          onProgress?.(progress);
          if (['succeeded', 'failed', 'cancelled', 'expired'].includes(progress.status)) {
            await response.body.cancel().catch(() => undefined);
            return progress;
          }
        }
      }
      if (!latest) throw new Error('the progress stream ended without an event');
      return latest;
    },
  };
}

/** Signs a new account up through one web instance. */
export async function signUpOverHttp(baseUrl: string, email: string): Promise<HttpUser> {
  const user = httpUser(email);
  await user.trpc(baseUrl).auth.signUp.mutate({ email, password: 'load-test-password-1', name: email.split('@')[0]! });
  if (!user.cookie()) throw new Error('sign-up set no session cookie');
  return user;
}
