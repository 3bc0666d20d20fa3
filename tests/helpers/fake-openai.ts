import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A local server that speaks the Chat Completions protocol, so tests drive the real openai SDK
// through baseURL: JSON answers, or streamed SSE chunks with tool-call arguments split into pieces.

export interface ScriptedAnswer {
  status?: number;
  delayMs?: number;
  text?: string;
  toolCall?: { name: string; arguments: string };
  /** Into how many chunks the tool call's arguments are split when streaming. */
  pieces?: number;
  /** A body sent as it is (for broken answers). */
  rawBody?: string;
}

export interface RecordedRequest {
  model: string;
  stream: boolean;
  messages: Array<{ role: string; content: string }>;
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

  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
      response.writeHead(404).end();
      return;
    }
    const body = JSON.parse(await readBody(request)) as RecordedRequest;
    requests.push(body);
    const next = queue.shift() ?? fallbackAnswer ?? { text: 'Hello!' };
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
    const toolCalls = answer.toolCall
      ? [
          {
            id: 'call_1',
            type: 'function',
            function: { name: answer.toolCall.name, arguments: answer.toolCall.arguments },
          },
        ]
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
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
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
    if (answer.toolCall) {
      send({
        tool_calls: [
          { index: 0, id: 'call_1', type: 'function', function: { name: answer.toolCall.name, arguments: '' } },
        ],
      });
      for (const piece of split(answer.toolCall.arguments, answer.pieces ?? 4))
        send({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
    }
    send({}, answer.toolCall ? 'tool_calls' : 'stop');
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
  return { text: 'I can query the tables and export results as CSV or JSON.' };
}
