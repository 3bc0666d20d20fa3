import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import { messagePayloadSchema } from '@/lib/chat-message';
import {
  askClarificationArgsSchema,
  cancelExportArgsSchema,
  CONFIDENCE_THRESHOLD,
  exportResultsArgsSchema,
  querySpecSchema,
  setDefaultFormatArgsSchema,
} from '@/lib/intent';
import type { SessionUser } from '../auth/service';
import type { MessageRouter } from './router';
import type { Chat } from '../db/client';
import { tableSchemas } from '../query/service';
import type { AppServices } from '../app-services';
import { parseIntent } from './parser';
import { systemPrompt } from './prompts';
import { readingCatalog, routeWithParser, type RoutedAction } from './router';

export interface OpenAIRouterConfig {
  apiKey: string;
  baseURL?: string;
  model: string;
  timeoutMs: number;
  stream: boolean;
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
    description: 'Ask the user one short question when the request is ambiguous.',
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
  name: string;
  arguments: string;
}

/** Reads the model's answer: streamed chunks (tool calls arrive in pieces) or one JSON body. */
async function callModel(
  client: OpenAI,
  config: OpenAIRouterConfig,
  messages: ChatCompletionMessageParam[],
  onText?: (delta: string) => void,
): Promise<{ text: string; toolCalls: ToolCall[] }> {
  const request = { model: config.model, messages, tools: TOOLS, tool_choice: 'auto' as const, temperature: 0 };
  if (!config.stream) {
    const completion = await client.chat.completions.create(request);
    const message = completion.choices[0]?.message;
    const toolCalls = (message?.tool_calls ?? []).flatMap((call) =>
      call.type === 'function' ? [{ name: call.function.name, arguments: call.function.arguments }] : [],
    );
    return { text: message?.content ?? '', toolCalls };
  }
  const stream = await client.chat.completions.create({ ...request, stream: true });
  let text = '';
  const calls = new Map<number, ToolCall>();
  for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
    const delta = chunk.choices[0]?.delta;
    if (!delta) continue;
    if (delta.content) {
      text += delta.content;
      onText?.(delta.content);
    }
    for (const part of delta.tool_calls ?? []) {
      const call = calls.get(part.index) ?? { name: '', arguments: '' };
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments) call.arguments += part.function.arguments;
      calls.set(part.index, call);
    }
  }
  return { text, toolCalls: [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call) };
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
    case 'ask_clarification':
      return { kind: 'clarify', question: parseArguments(askClarificationArgsSchema, call.arguments).question };
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

/** OpenAI function calling first; any failure falls back to the parser and says why, briefly. */
export function createOpenAIRouter(config: OpenAIRouterConfig): MessageRouter {
  const client = new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    timeout: config.timeoutMs,
    maxRetries: 0,
  });
  return async (app: AppServices, _user: SessionUser, chat: Chat, text: string, onText?: (delta: string) => void) => {
    const catalog = await readingCatalog(app);
    const fallback = async (reason: string) => ({
      action: routeWithParser(text, catalog),
      source: 'parser' as const,
      fallbackReason: reason,
    });
    // "save this as …" is a command with one meaning: no model needed.
    const direct = routeWithParser(text, catalog);
    if (direct.kind === 'save') return { action: direct, source: 'parser' as const, fallbackReason: null };
    // A described export needs a query and an export in one turn, which this model path does not do
    // yet: the offline reader answers it rather than the model exporting an earlier result.
    if (direct.kind === 'intent' && direct.intent.target === 'described')
      return { action: direct, source: 'parser' as const, fallbackReason: null };
    try {
      const [schemas, history, queryCount] = await Promise.all([
        tableSchemas(app.dataSource),
        conversation(app, chat),
        app.db.queryRun.count({ where: { chatId: chat.id } }),
      ]);
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: systemPrompt({ dialect: app.dataSource.dialect, tables: schemas, queryCount }) },
        ...history,
        { role: 'user', content: text },
      ];
      const signal = AbortSignal.timeout(config.timeoutMs);
      const answer = await Promise.race([
        callModel(client, config, messages, onText),
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(new APIConnectionTimeoutError()), { once: true }),
        ),
      ]);
      const call = answer.toolCalls[0];
      if (call) return { action: actionFromToolCall(call), source: 'model' as const, fallbackReason: null };
      // Text only. Fine for chit-chat, but not when the person clearly asked for a file.
      const reading = parseIntent(text);
      if (reading.intent !== 'other' && reading.confidence >= CONFIDENCE_THRESHOLD)
        throw new ModelFallback(`The model did not act on the request, ${PARSER}`);
      if (!answer.text.trim()) throw new ModelFallback(`The model gave an empty answer, ${PARSER}`);
      return {
        action: { kind: 'reply' as const, text: answer.text.trim() },
        source: 'model' as const,
        fallbackReason: null,
      };
    } catch (error) {
      return fallback(failureReason(error, config.timeoutMs));
    }
  };
}
