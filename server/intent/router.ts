import type { AgentStep } from '@/lib/chat-message';
import type { Intent, QuerySpec } from '@/lib/intent';
import type { ColumnKind } from '../query/data-source';
import type { AppServices } from '../app-services';
import type { SessionUser } from '../auth/service';
import type { Chat } from '../db/client';
import { log } from '../log';
import { type SchemaCatalog, schemaCatalog } from './catalog';
import { type DataDescription, describeData } from './describe';
import { parseIntent, unsupportedFormatNamed } from './parser';
import { understandMessage } from './understand';

/** What the chat should do with a message, whichever path understood it. */
export type RoutedAction =
  // export, set_default_format or cancel; `unsupportedFormat`: a format asked for that is not written ("pdf")
  | { kind: 'intent'; intent: Intent; description?: DataDescription; unsupportedFormat?: string }
  | { kind: 'ask_data'; description: Extract<DataDescription, { kind: 'unclear' }> }
  | { kind: 'query'; query: QuerySpec }
  | { kind: 'save'; name: string }
  | { kind: 'reply'; text: string }
  | { kind: 'clarify'; question: string; options: string[] | null }
  /** The model's queries already answered the message (shown as they ran): nothing more to do. */
  | { kind: 'done' };

export interface Routed {
  action: RoutedAction;
  source: 'model' | 'parser';
  /** Why the parser answered although a model is configured; said once in the reply. */
  fallbackReason: string | null;
  /** What the model did on the way (queries it ran, errors it corrected), for the collapsible steps. */
  steps?: AgentStep[];
  /** What the model path cost: calls and the tokens the API reported. */
  usage?: { modelCalls: number; promptTokens: number; completionTokens: number };
}

/** How a query the model ran went, as the chat ran it (a result the person sees, or the error). */
export type QueryOutcome =
  | {
      ok: true;
      position: number;
      columns: Array<{ name: string; kind: ColumnKind }>;
      rowCount: number;
      /** The first rows as shown in the chat (the model gets them only when the operator allows). */
      rows: unknown[][];
    }
  | { ok: false; error: string };

/** What the chat lends a router for one message: running a query as a result of this chat. */
export interface AgentTools {
  runQuery(query: QuerySpec): Promise<QueryOutcome>;
}

/** Messages that ask to see data: a description they hold is read even when it cannot be resolved. */
const ASKS_FOR_DATA = /^\s*(?:please\s+)?(?:show|list|display|find|count|get|give|fetch|how many)\b/i;

/**
 * The deterministic path: the fallback parser (exports, defaults, cancel), the offline reader of
 * described data, then SQL and "show <table>" for everything else.
 */
export function routeWithParser(text: string, catalog: SchemaCatalog, now = new Date()): RoutedAction {
  const intent = parseIntent(text, { catalog, now });
  if (intent.intent === 'export' && intent.target === 'described') {
    const description = describeData(text, catalog, now)!;
    return { kind: 'intent', intent, description };
  }
  if (intent.intent === 'export' && !intent.format) {
    const unsupportedFormat = unsupportedFormatNamed(text);
    if (unsupportedFormat) return { kind: 'intent', intent, unsupportedFormat };
  }
  if (intent.intent !== 'other') return { kind: 'intent', intent };
  const tables = catalog.tables.map((table) => table.name);
  const understood = understandMessage(text, tables);
  if (understood.kind === 'query')
    return { kind: 'query', query: { sql: understood.sql, title: understood.title ?? null } };
  if (understood.kind === 'save') return understood;
  const description = describeData(text, catalog, now);
  if (description?.kind === 'query')
    return { kind: 'query', query: { sql: description.sql, title: description.title } };
  if (description?.kind === 'unclear' && ASKS_FOR_DATA.test(text)) return { kind: 'ask_data', description };
  return understood;
}

/** The catalog the offline reader works with; when the data source cannot be read, an empty one. */
export async function readingCatalog(app: AppServices): Promise<SchemaCatalog> {
  try {
    return await schemaCatalog(app.dataSource);
  } catch (error) {
    log.warn({ err: error }, 'could not read the schema catalog: reading messages without it');
    return { dialect: app.dataSource.dialect, tables: [] };
  }
}

/** Turns a message into an action: the seam where the OpenAI router plugs in. `onText` receives the
 * model's words as they stream, for the browser to show while the answer forms. */
export type MessageRouter = (
  app: AppServices,
  user: SessionUser,
  chat: Chat,
  text: string,
  onText?: (delta: string) => void,
  tools?: AgentTools,
) => Promise<Routed>;

export const parserRouter: MessageRouter = async (app, _user, _chat, text) => ({
  action: routeWithParser(text, await readingCatalog(app)),
  source: 'parser',
  fallbackReason: null,
});
