import type { Intent, QuerySpec } from '@/lib/intent';
import type { AppServices } from '../app-services';
import type { SessionUser } from '../auth/service';
import type { Chat } from '../db/client';
import { allowedTables } from '../query/service';
import { understandMessage } from './understand';
import { parseIntent } from './parser';

/** What the chat should do with a message, whichever path understood it. */
export type RoutedAction =
  | { kind: 'intent'; intent: Intent } // export, set_default_format or cancel
  | { kind: 'query'; query: QuerySpec }
  | { kind: 'save'; name: string }
  | { kind: 'reply'; text: string }
  | { kind: 'clarify'; question: string };

export interface Routed {
  action: RoutedAction;
  source: 'model' | 'parser';
  /** Why the parser answered although a model is configured; said once in the reply. */
  fallbackReason: string | null;
}

/** The deterministic path: the fallback parser, then SQL and "show <table>" for everything else. */
export function routeWithParser(text: string, tables: readonly string[]): RoutedAction {
  const intent = parseIntent(text);
  if (intent.intent !== 'other') return { kind: 'intent', intent };
  const understood = understandMessage(text, tables);
  if (understood.kind === 'reply' || understood.kind === 'save') return understood;
  return { kind: 'query', query: { sql: understood.sql, title: understood.title ?? null } };
}

/** Turns a message into an action: the seam where the OpenAI router plugs in. `onText` receives the
 * model's words as they stream, for the browser to show while the answer forms. */
export type MessageRouter = (
  app: AppServices,
  user: SessionUser,
  chat: Chat,
  text: string,
  onText?: (delta: string) => void,
) => Promise<Routed>;

export const parserRouter: MessageRouter = async (app, _user, _chat, text) => ({
  action: routeWithParser(text, await allowedTables(app.dataSource)),
  source: 'parser',
  fallbackReason: null,
});
