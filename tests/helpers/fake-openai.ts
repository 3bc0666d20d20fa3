import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A local server that speaks the Chat Completions protocol, so tests drive the real openai SDK
// through baseURL: JSON answers, or streamed SSE chunks with tool-call arguments split into pieces.

export interface ScriptedAnswer {
  status?: number;
  delayMs?: number;
  text?: string;
  toolCall?: { name: string; arguments: string };
  /** Several tool calls in one answer (parallel tool calls), in order. */
  toolCalls?: Array<{ name: string; arguments: string }>;
  /** Into how many chunks the tool call's arguments are split when streaming. */
  pieces?: number;
  /** A body sent as it is (for broken answers). */
  rawBody?: string;
}

export interface RecordedRequest {
  model: string;
  stream: boolean;
  messages: Array<{ role: string; content: string; tool_call_id?: string; tool_calls?: unknown[] }>;
  tools: Array<{ type: string; function: { name: string; parameters: unknown } }>;
}

export interface FakeOpenAI {
  baseURL: string;
  requests: RecordedRequest[];
  answer: (next: ScriptedAnswer | ((request: RecordedRequest) => ScriptedAnswer | Promise<ScriptedAnswer>)) => void;
  close: () => Promise<void>;
}

function split(text: string, pieces: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const parts: string[] = [];
  for (let index = 0; index < text.length; index += size) parts.push(text.slice(index, index + size));
  return parts.length > 0 ? parts : [''];
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}

export async function startFakeOpenAI(
  fallbackAnswer?: (request: RecordedRequest) => ScriptedAnswer | Promise<ScriptedAnswer>,
): Promise<FakeOpenAI> {
  const queue: Array<ScriptedAnswer | ((request: RecordedRequest) => ScriptedAnswer | Promise<ScriptedAnswer>)> = [];
  const requests: RecordedRequest[] = [];
  let callCount = 0;

  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
      response.writeHead(404).end();
      return;
    }
    const body = JSON.parse(await readBody(request)) as RecordedRequest;
    requests.push(body);
    // With nothing scripted, a model that has just seen a tool's result has nothing to add.
    const afterTool = body.messages.at(-1)?.role === 'tool';
    const next = queue.shift() ?? fallbackAnswer ?? (afterTool ? { text: '' } : { text: 'Hello!' });
    const answer = typeof next === 'function' ? await next(body) : next;
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (response.destroyed) return;
    if (answer.status && answer.status >= 400) {
      response
        .writeHead(answer.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: 'scripted failure', type: 'server_error' } }));
      return;
    }
    if (answer.rawBody !== undefined) {
      response
        .writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' })
        .end(answer.rawBody);
      return;
    }
    const base = { id: 'chatcmpl-test', created: Math.floor(Date.now() / 1000), model: body.model };
    const scriptedCalls = answer.toolCalls ?? (answer.toolCall ? [answer.toolCall] : []);
    const callIds = scriptedCalls.map(() => `call_${++callCount}`);
    const toolCalls =
      scriptedCalls.length > 0
        ? scriptedCalls.map((call, index) => ({
            id: callIds[index]!,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          }))
        : undefined;
    if (!body.stream) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              finish_reason: toolCalls ? 'tool_calls' : 'stop',
              message: { role: 'assistant', content: answer.text ?? null, tool_calls: toolCalls, refusal: null },
            },
          ],
          usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (delta: object, finish: string | null = null) =>
      response.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    send({ role: 'assistant', content: '' });
    for (const piece of answer.text ? split(answer.text, 3) : []) send({ content: piece });
    scriptedCalls.forEach((call, index) => {
      send({
        tool_calls: [{ index, id: callIds[index], type: 'function', function: { name: call.name, arguments: '' } }],
      });
      for (const piece of split(call.arguments, answer.pieces ?? 4))
        send({ tool_calls: [{ index, function: { arguments: piece } }] });
    });
    send({}, scriptedCalls.length > 0 ? 'tool_calls' : 'stop');
    // Usage comes in a last chunk with no choices, as the API sends it with stream_options.include_usage.
    response.write(
      `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 } })}\n\n`,
    );
    response.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    answer: (next) => queue.push(next),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const toolCall = (name: string, args: object) => ({ toolCall: { name, arguments: JSON.stringify(args) } });

/**
 * A stand-in model for end-to-end runs, where the browser cannot script each answer: it reads the
 * last user message with the fallback parser and answers with the tool call a good model would make.
 * It exercises the whole OpenAI path (SDK, streaming, tool validation) without a real model.
 */
export async function standInModelAnswer(request: RecordedRequest): Promise<ScriptedAnswer> {
  const { parseIntent } = await import('@/server/intent/parser');
  const { understandMessage } = await import('@/server/intent/understand');
  // After a tool's result, a good model stops here: the query is shown, nothing more to say.
  if (request.messages.at(-1)?.role === 'tool') return { text: '' };
  const text = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
  const tables = [...(request.messages[0]?.content ?? '').matchAll(/^- (\w+)\(/gm)].map((match) => match[1]!);
  const intent = parseIntent(text);
  if (intent.intent === 'export')
    return toolCall('export_results', { format: intent.format, target: intent.target, nth: intent.nth });
  if (intent.intent === 'set_default_format' && intent.format)
    return toolCall('set_default_format', { format: intent.format });
  if (intent.intent === 'cancel') return toolCall('cancel_export', {});
  const understood = understandMessage(text, tables);
  if (understood.kind === 'query')
    return toolCall('run_query', { sql: understood.sql, title: understood.title ?? null });
  // "show me the stuff": a good model asks which table, with the tables as options to click.
  if (/^\s*(show|list)\b/i.test(text))
    return toolCall('ask_clarification', {
      question: 'Which table do you mean?',
      options: tables.slice(0, 3).map((table) => `show ${table}`),
    });
  return { text: 'I can query the tables and export results as CSV or JSON.' };
}
