import { SESSION_COOKIE } from '@/server/auth/service';
import { parserRouter, type MessageRouter } from '@/server/intent/router';
import { handleExportDownload } from '@/server/export/download-route';
import type { TestApp } from './databases';
import { callerFor, send } from './trpc';

/** A signed-in user's chat, driven the way the browser drives it. */
export async function chatSession(app: TestApp, token: string, router: MessageRouter = parserRouter) {
  const { caller } = await callerFor(app, token, router);
  let chatId: string | null = null;
  /** Every message of the exchange: the user's, then the assistant's (one, or two for a described export). */
  const exchange = async (text: string) => {
    const result = await send(caller, { chatId, text });
    chatId = result.chatId;
    return result;
  };
  const say = async (text: string) => (await exchange(text)).messages[1]!;
  const download = (url: string) => {
    const exportId = decodeURIComponent(/\/api\/exports\/([^/]+)\/download/.exec(url)![1]!);
    return handleExportDownload(
      new Request(`http://localhost${url}`, { headers: { cookie: `${SESSION_COOKIE}=${token}` } }),
      exportId,
      app.services,
    );
  };
  return { caller, say, send: exchange, download, chatId: () => chatId };
}
