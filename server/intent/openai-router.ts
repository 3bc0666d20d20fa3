import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import { messagePayloadSchema } from '@/lib/chat-message';
import type { AgentStep } from '@/lib/chat-message';
import {
  askClarificationArgsSchema,
  cancelExportArgsSchema,
  CONFIDENCE_THRESHOLD,
  describeTableArgsSchema,
  exportResultsArgsSchema,
  listTablesArgsSchema,
  type QuerySpec,
  querySpecSchema,
  setDefaultFormatArgsSchema,
} from '@/lib/intent';
import type { MessageRouter } from './router';
import type { Chat } from '../db/client';
import type { AppServices } from '../app-services';
import { parseIntent } from './parser';
import { describeTableForModel, systemPrompt } from './prompts';
import { type QueryOutcome, readingCatalog, routeWithParser, type RoutedAction } from './router';

export interface OpenAIRouterConfig {
  apiKey: string;
  baseURL?: string;
  model: string;
  /** For the whole message, however many model calls it takes. */
  timeoutMs: number;
  stream: boolean;
  /** Model calls per message (default 4). */
  maxCalls?: number;
  /** SQL corrections per message: failed queries handed back to the model (default 2). */
  maxCorrections?: number;
  /** Tables described in the system prompt, the most relevant first (default 25). */
  promptTables?: number;
  /** Send the first rows of results to the model (default false: columns and row count only). */
  shareRows?: boolean;
}

// The conversation sent to the model: this chat only (so never another user's data), newest last,
// bounded in messages and characters.
export const HISTORY_MESSAGES = 12;
const HISTORY_CHARACTERS = 6_000;

/** Tool definitions, derived from the same zod schemas that validate the model's arguments. */
const TOOL_SCHEMAS = {
  run_query: {
    schema: querySpecSchema,
    description: 'Run one read-only SQL query on the data source and show the result as a table.',
  },
  export_results: {
    schema: exportResultsArgsSchema,
    description: 'Export one or more earlier query results of this chat as a file.',
  },
  set_default_format: { schema: setDefaultFormatArgsSchema, description: "Save the user's default export format." },
  cancel_export: { schema: cancelExportArgsSchema, description: "Cancel this chat's running export." },
  ask_clarification: {
    schema: askClarificationArgsSchema,
    description: 'Ask the user one short question when the request is ambiguous, with 2 to 5 short options.',
  },
  list_tables: { schema: listTablesArgsSchema, description: 'List the names of every table you may query.' },
  describe_table: {
    schema: describeTableArgsSchema,
    description: 'The columns of one table, with their kind and, where there are few, their values.',
  },
} as const;
type ToolName = keyof typeof TOOL_SCHEMAS;

export const TOOLS: ChatCompletionTool[] = Object.entries(TOOL_SCHEMAS).map(([name, tool]) => {
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(tool.schema) as Record<string, unknown>;
  return { type: 'function', function: { name, description: tool.description, parameters, strict: true } };
});

class ModelFallback extends Error {}

const PARSER = 'so I used the built-in parser.';

async function conversation(app: AppServices, chat: Chat): Promise<ChatCompletionMessageParam[]> {
  const recent = await app.db.message.findMany({
    where: { chatId: chat.id },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: HISTORY_MESSAGES,
  });
  const turns: ChatCompletionMessageParam[] = [];
  let budget = HISTORY_CHARACTERS;
  for (const message of recent) {
    let content = message.content;
    const payload = message.payload ? messagePayloadSchema.safeParse(JSON.parse(message.payload)) : null;
    if (payload?.success && payload.data.kind === 'result')
      content += ` [Query ${payload.data.position} "${payload.data.title}": ${payload.data.totalRows} rows; SQL: ${payload.data.sql}]`;
    content = content.slice(0, 1_000);
    if (content.length > budget) break;
    budget -= content.length;
    turns.unshift({ role: message.role === 'user' ? 'user' : 'assistant', content });
  }
  return turns;
}

interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

interface ModelAnswer {
  text: string;
  toolCalls: ToolCall[];
  usage: { promptTokens: number; completionTokens: number };
}

/** Reads the model's answer: streamed chunks (tool calls arrive in pieces) or one JSON body. */
async function callModel(
  client: OpenAI,
  config: OpenAIRouterConfig,
  messages: ChatCompletionMessageParam[],
  signal: AbortSignal,
  onText?: (delta: string) => void,
): Promise<ModelAnswer> {
  const request = { model: config.model, messages, tools: TOOLS, tool_choice: 'auto' as const, temperature: 0 };
  if (!config.stream) {
    const completion = await client.chat.completions.create(request, { signal });
    const message = completion.choices[0]?.message;
    const toolCalls = (message?.tool_calls ?? []).flatMap((call, index) =>
      call.type === 'function'
        ? [{ id: call.id || `call_${index}`, name: call.function.name, arguments: call.function.arguments }]
        : [],
    );
    return {
      text: message?.content ?? '',
      toolCalls,
      usage: {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
      },
    };
  }
  const stream = await client.chat.completions.create(
    { ...request, stream: true, stream_options: { include_usage: true } },
    { signal },
  );
  let text = '';
  const usage = { promptTokens: 0, completionTokens: 0 };
  const calls = new Map<number, ToolCall>();
  for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
    if (chunk.usage) {
      usage.promptTokens = chunk.usage.prompt_tokens;
      usage.completionTokens = chunk.usage.completion_tokens;
    }
    const delta = chunk.choices[0]?.delta;
    if (!delta) continue;
    if (delta.content) {
      text += delta.content;
      onText?.(delta.content);
    }
    for (const part of delta.tool_calls ?? []) {
      const call = calls.get(part.index) ?? { id: '', name: '', arguments: '' };
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments) call.arguments += part.function.arguments;
      calls.set(part.index, call);
    }
  }
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
  return { text, toolCalls, usage };
}

function parseArguments<T>(schema: z.ZodType<T>, raw: string): T {
  let json: unknown;
  try {
    json = JSON.parse(raw || '{}');
  } catch {
    throw new ModelFallback(`The model's answer was malformed, ${PARSER}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ModelFallback(`The model's answer was malformed, ${PARSER}`);
  return parsed.data;
}

/** Model output is untrusted: every tool call is validated with the shared schemas and acts only here. */
function actionFromToolCall(call: ToolCall): RoutedAction {
  if (!(call.name in TOOL_SCHEMAS)) throw new ModelFallback(`The model asked for an action I don't know, ${PARSER}`);
  const name = call.name as ToolName;
  switch (name) {
    case 'run_query':
      return { kind: 'query', query: parseArguments(querySpecSchema, call.arguments) };
    case 'export_results': {
      const args = parseArguments(exportResultsArgsSchema, call.arguments);
      if (args.target === 'nth' && args.nth === null)
        throw new ModelFallback(`The model's answer was malformed, ${PARSER}`);
      return {
        kind: 'intent',
        intent: {
          intent: 'export',
          format: args.format,
          target: args.target,
          nth: args.target === 'nth' ? args.nth : null,
          sql: null,
          confidence: 0.9,
        },
      };
    }
    case 'set_default_format':
      return {
        kind: 'intent',
        intent: {
          intent: 'set_default_format',
          format: parseArguments(setDefaultFormatArgsSchema, call.arguments).format,
          target: null,
          nth: null,
          sql: null,
          confidence: 0.9,
        },
      };
    case 'cancel_export':
      parseArguments(cancelExportArgsSchema, call.arguments);
      return {
        kind: 'intent',
        intent: { intent: 'cancel', format: null, target: null, nth: null, sql: null, confidence: 0.9 },
      };
    case 'ask_clarification': {
      const args = parseArguments(askClarificationArgsSchema, call.arguments);
      return { kind: 'clarify', question: args.question, options: args.options };
    }
    case 'list_tables':
    case 'describe_table':
      throw new ModelFallback(`The model's answer was malformed, ${PARSER}`);
  }
}

function failureReason(error: unknown, timeoutMs: number): string {
  if (error instanceof ModelFallback) return error.message;
  if (
    error instanceof APIConnectionTimeoutError ||
    error instanceof APIUserAbortError ||
    (error as Error).name === 'TimeoutError'
  ) {
    return `The model did not answer within ${Number((timeoutMs / 1000).toFixed(1))} s, ${PARSER}`;
  }
  if (error instanceof APIError && typeof error.status === 'number')
    return `The model answered with an error (HTTP ${error.status}), ${PARSER}`;
  return `The model could not be reached, ${PARSER}`;
}

/** A query's outcome as the model reads it: columns with kinds, the row count, rows only when allowed. */
function queryToolResult(outcome: QueryOutcome, shareRows: boolean): string {
  if (!outcome.ok) return JSON.stringify({ error: outcome.error });
  return JSON.stringify({
    query_number: outcome.position,
    columns: outcome.columns.map((column) => `${column.name} ${column.kind}`),
    row_count: outcome.rowCount,
    ...(shareRows
      ? {
          first_rows: outcome.rows
            .slice(0, 5)
            .map((row) =>
              row.map((cell) => (typeof cell === 'string' && cell.length > 100 ? `${cell.slice(0, 100)}…` : cell)),
            ),
        }
      : {}),
  });
}

/** A statement compared for "the same failing SQL again": case and spacing do not make it new. */
function sameStatement(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().toLowerCase();
}

function stepDetail(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

/** The model stopped short of an answer: what the person reads. */
class AgentStopped extends Error {}

/**
 * OpenAI function calling as a bounded loop: the model may run queries, see their outcome (and
 * correct failing SQL), look at tables, then export, ask or answer. Every call is validated with the
 * shared schemas and acts only inside this user's chat. Any failure before the model has done
 * something falls back to the parser and says why, briefly.
 */
export function createOpenAIRouter(config: OpenAIRouterConfig): MessageRouter {
  const client = new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    timeout: config.timeoutMs,
    maxRetries: 0,
  });
  const maxCalls = config.maxCalls ?? 4;
  const maxCorrections = config.maxCorrections ?? 2;
  return async (app, _user, chat, text, onText, tools) => {
    const catalog = await readingCatalog(app);
    // "save this as …" is a command with one meaning: no model needed.
    const direct = routeWithParser(text, catalog);
    if (direct.kind === 'save') return { action: direct, source: 'parser' as const, fallbackReason: null };
    // Without the chat's tools (a caller that cannot run queries mid-turn), a described export is
    // the offline reader's: the model could only export an earlier result.
    if (!tools && direct.kind === 'intent' && direct.intent.target === 'described')
      return { action: direct, source: 'parser' as const, fallbackReason: null };

    const steps: AgentStep[] = [];
    const usage = { modelCalls: 0, promptTokens: 0, completionTokens: 0 };
    let queriesRun = 0;
    const done = (action: RoutedAction) => ({
      action,
      source: 'model' as const,
      fallbackReason: null,
      steps,
      usage,
    });
    try {
      const [history, queryCount] = await Promise.all([
        conversation(app, chat),
        app.db.queryRun.count({ where: { chatId: chat.id } }),
      ]);
      const messages: ChatCompletionMessageParam[] = [
        {
          role: 'system',
          content: systemPrompt({
            dialect: app.dataSource.dialect,
            catalog,
            message: text,
            tableLimit: config.promptTables ?? 25,
            queryCount,
          }),
        },
        ...history,
        { role: 'user', content: text },
      ];
      const signal = AbortSignal.timeout(config.timeoutMs);
      const failedStatements = new Set<string>();
      let corrections = 0;
      for (;;) {
        if (usage.modelCalls >= maxCalls)
          throw new AgentStopped(`I stopped after ${maxCalls} steps without finishing. Try asking in smaller steps.`);
        const answer = await Promise.race([
          callModel(client, config, messages, signal, onText),
          new Promise<never>((_, reject) =>
            signal.addEventListener('abort', () => reject(new APIConnectionTimeoutError()), { once: true }),
          ),
        ]);
        usage.modelCalls++;
        usage.promptTokens += answer.usage.promptTokens;
        usage.completionTokens += answer.usage.completionTokens;

        if (answer.toolCalls.length === 0) {
          if (queriesRun > 0)
            return done(answer.text.trim() ? { kind: 'reply', text: answer.text.trim() } : { kind: 'done' });
          // Text only. Fine for chit-chat, but not when the person clearly asked for a file.
          const reading = parseIntent(text);
          if (reading.intent !== 'other' && reading.confidence >= CONFIDENCE_THRESHOLD)
            throw new ModelFallback(`The model did not act on the request, ${PARSER}`);
          if (!answer.text.trim()) throw new ModelFallback(`The model gave an empty answer, ${PARSER}`);
          return done({ kind: 'reply', text: answer.text.trim() });
        }

        messages.push({
          role: 'assistant',
          content: answer.text || null,
          tool_calls: answer.toolCalls.map((call) => ({
            id: call.id,
            type: 'function' as const,
            function: { name: call.name, arguments: call.arguments },
          })),
        });
        // Parallel calls are handled in order; a call that ends the turn (export, ask, …) ends it there.
        for (const call of answer.toolCalls) {
          const respond = (content: string) => messages.push({ role: 'tool', tool_call_id: call.id, content });
          if (call.name === 'run_query' && tools) {
            const query: QuerySpec = parseArguments(querySpecSchema, call.arguments);
            const statement = sameStatement(query.sql);
            if (failedStatements.has(statement))
              throw new AgentStopped('The model tried the same failing query again, so I stopped.');
            const outcome = await tools.runQuery(query);
            steps.push({
              tool: 'run_query',
              detail: stepDetail(query.sql),
              ok: outcome.ok,
              outcome: outcome.ok ? `${outcome.rowCount} rows` : stepDetail(outcome.error),
            });
            if (outcome.ok) {
              queriesRun++;
            } else {
              failedStatements.add(statement);
              if (++corrections > maxCorrections)
                throw new AgentStopped(
                  `The query still failed after ${maxCorrections} ${maxCorrections === 1 ? 'correction' : 'corrections'}: ${outcome.error}`,
                );
            }
            respond(queryToolResult(outcome, config.shareRows ?? false));
          } else if (call.name === 'list_tables') {
            parseArguments(listTablesArgsSchema, call.arguments);
            steps.push({ tool: 'list_tables', detail: '', ok: true, outcome: `${catalog.tables.length} tables` });
            respond(JSON.stringify({ tables: catalog.tables.map((table) => table.name) }));
          } else if (call.name === 'describe_table') {
            const { table } = parseArguments(describeTableArgsSchema, call.arguments);
            const found = catalog.tables.find((candidate) => candidate.name === table);
            steps.push({
              tool: 'describe_table',
              detail: table,
              ok: found !== undefined,
              outcome: found ? 'described' : 'no such table',
            });
            respond(
              found ? describeTableForModel(found) : JSON.stringify({ error: `There is no table called ${table}.` }),
            );
          } else {
            const action = actionFromToolCall(call);
            steps.push({ tool: call.name, detail: stepDetail(call.arguments), ok: true, outcome: 'done' });
            return done(action);
          }
        }
      }
    } catch (error) {
      if (error instanceof AgentStopped) {
        steps.push({ tool: 'stop', detail: '', ok: false, outcome: error.message });
        return done({ kind: 'reply', text: error.message });
      }
      // Once a query has been shown, the parser cannot take the message over: say what stopped it.
      if (queriesRun > 0) {
        const reason = failureReason(error, config.timeoutMs).replace(`, ${PARSER}`, '.');
        return done({ kind: 'reply', text: `I stopped after the query above. ${reason}` });
      }
      return {
        action: routeWithParser(text, catalog),
        source: 'parser' as const,
        fallbackReason: failureReason(error, config.timeoutMs),
        steps,
        usage,
      };
    }
  };
}
