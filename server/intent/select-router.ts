import { parserRouter, type MessageRouter } from './router';
import { getEnv } from '../env';
import { createOpenAIRouter } from './openai-router';

export const OFFLINE_NOTICE = "Offline mode: no OpenAI key is set, so I'm using the built-in parser.";

/** Without a key: the parser, and the chat's first reply says so once. */
export const offlineRouter: MessageRouter = async (app, user, chat, text) => {
  const routed = await parserRouter(app, user, chat, text);
  const answeredBefore = await app.db.message.count({ where: { chatId: chat.id, role: 'assistant' } });
  return { ...routed, fallbackReason: answeredBefore === 0 ? OFFLINE_NOTICE : null };
};

let cached: MessageRouter | undefined;

/** The OpenAI router when OPENAI_API_KEY is set, else the offline parser. */
export function getMessageRouter(): MessageRouter {
  if (cached) return cached;
  const env = getEnv();
  cached = env.OPENAI_API_KEY
    ? createOpenAIRouter({
        apiKey: env.OPENAI_API_KEY,
        baseURL: env.OPENAI_BASE_URL,
        model: env.OPENAI_MODEL,
        timeoutMs: env.OPENAI_TIMEOUT_MS,
        stream: env.OPENAI_STREAM,
        maxCalls: env.OPENAI_MAX_CALLS,
        maxCorrections: env.OPENAI_MAX_CORRECTIONS,
        promptTables: env.OPENAI_PROMPT_TABLES,
        shareRows: env.OPENAI_SHARE_ROWS,
      })
    : offlineRouter;
  return cached;
}
