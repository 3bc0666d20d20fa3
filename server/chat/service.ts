import type { ChatAction, ChatActionRequest } from '@/lib/chat-action';
import {
  type MessageMeta,
  messageMetaSchema,
  messagePayloadSchema,
  type MessagePayload,
  type QueryResultPayload,
  type SendMessageInput,
} from '@/lib/chat-message';
import {
  EXPORT_FORMAT_NAMES,
  EXPORT_FORMATS,
  type ExportDelivery,
  exportDownloadPath,
  type ExportFormat,
} from '@/lib/export-request';
import { CONFIDENCE_THRESHOLD, type Intent, type QuerySpec } from '@/lib/intent';
import { EXTENDED_PREVIEW_ROW_LIMIT } from '@/lib/limits';
import { savedQueryNameSchema } from '@/lib/saved-query';
import type { SessionUser } from '../auth/service';
import type { Chat, Message, QueryRun } from '../db/client';
import { getEnv } from '../env';
import { NotFoundError, UserFacingError } from '../errors';
import { previewCell, previewColumns } from '../export/cells';
import { deliveryFor, planExport } from '../export/plan';
import { cancelChatExports, ownFormats } from '../export/service';
import type { DataDescription } from '../intent/describe';
import { type AgentTools, parserRouter, type MessageRouter, type Routed } from '../intent/router';
import { log } from '../log';
import {
  choice,
  chooseResults,
  flattenReplies,
  confirmExport,
  exportDescription,
  formatOptions,
  type Reply,
  resultText,
  rowsText,
} from './replies';
import { getPreferences, updatePreferences } from '../preferences/service';
import { findSavedQuery, saveQueryRun } from '../saved-queries/service';
import { runPreview } from '../query/service';
import type { AppServices } from '../app-services';

export interface ChatMessageView {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  payload: MessagePayload | null;
  /** How an assistant message was answered (path, model calls, tokens, steps), when known. */
  meta: MessageMeta | null;
  createdAt: Date;
}

function toView(message: Message): ChatMessageView {
  let payload: MessagePayload | null = null;
  if (message.payload) {
    const parsed = messagePayloadSchema.safeParse(JSON.parse(message.payload));
    payload = parsed.success ? parsed.data : null;
  }
  return {
    id: message.id,
    role: message.role === 'user' ? 'user' : 'assistant',
    content: message.content,
    payload,
    meta: message.meta ? (messageMetaSchema.safeParse(JSON.parse(message.meta)).data ?? null) : null,
    createdAt: message.createdAt,
  };
}

export async function listChats(app: AppServices, user: SessionUser) {
  return app.db.chat.findMany({
    where: { userId: user.id },
    orderBy: { updatedAt: 'desc' },
    take: 100,
    select: { id: true, title: true, updatedAt: true },
  });
}

async function requireChat(app: AppServices, user: SessionUser, chatId: string): Promise<Chat> {
  const chat = await app.db.chat.findFirst({ where: { id: chatId, userId: user.id } });
  if (!chat) throw new NotFoundError('That chat');
  return chat;
}

export async function getChatMessages(app: AppServices, user: SessionUser, chatId: string): Promise<ChatMessageView[]> {
  await requireChat(app, user, chatId);
  const messages = await app.db.message.findMany({ where: { chatId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  return messages.map(toView);
}

function chatTitle(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

/** Stores an assistant reply in the chat. */
function storeReply(app: AppServices, chat: Chat, reply: Reply): Promise<Message> {
  return app.db.message.create({
    data: {
      chatId: chat.id,
      role: 'assistant',
      content: reply.content,
      payload: reply.payload ? JSON.stringify(reply.payload) : null,
      meta: reply.meta ? JSON.stringify(reply.meta) : null,
      queryRunId: reply.queryRunId ?? null,
    },
  });
}

async function saveExchange(
  app: AppServices,
  chat: Chat,
  userText: string,
  reply: Reply,
): Promise<{ chatId: string; messages: ChatMessageView[] }> {
  const userMessage = await app.db.message.create({ data: { chatId: chat.id, role: 'user', content: userText } });
  const messages = [toView(userMessage)];
  for (let next: Reply | undefined = reply; next; next = next.followUp)
    messages.push(toView(await storeReply(app, chat, next)));
  await app.db.chat.update({ where: { id: chat.id }, data: { updatedAt: new Date() } });
  return { chatId: chat.id, messages };
}

/** The reply `work` makes; a refusal meant for the person (a UserFacingError) becomes the reply instead. */
async function replyOrRefusal(work: () => Promise<Reply>): Promise<Reply> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    return { content: error.message, payload: { kind: 'error' } };
  }
}

/** Stores the user's message, answers it, stores the answer. Refusals become the answer's text. */
export async function sendMessage(
  app: AppServices,
  user: SessionUser,
  input: SendMessageInput,
  router: MessageRouter = parserRouter,
  onText?: (delta: string) => void,
): Promise<{ chatId: string; messages: ChatMessageView[] }> {
  const chat = input.chatId
    ? await requireChat(app, user, input.chatId)
    : await app.db.chat.create({ data: { userId: user.id, title: chatTitle(input.text) } });
  // Queries the model runs on the way are results of this chat, shown in the order they ran.
  const shown: Reply[] = [];
  const tools: AgentTools = {
    async runQuery(query) {
      const ran = await replyOrRefusal(() => runQuery(app, user, chat, query));
      if (ran.payload?.kind !== 'result') return { ok: false, error: ran.content };
      shown.push(ran);
      const { position, totalRows, rows } = ran.payload;
      return { ok: true, position, columns: ran.columns ?? [], rowCount: totalRows, rows };
    },
  };
  const routed = await router(app, user, chat, input.text, onText, tools);
  const final = routed.action.kind === 'done' ? [] : [await replyOrRefusal(() => answer(app, user, chat, routed))];
  const replies = flattenReplies([...shown, ...final]);
  if (routed.fallbackReason)
    replies[0] = { ...replies[0]!, content: `${routed.fallbackReason} ${replies[0]!.content}` };
  const meta: MessageMeta = {
    path: routed.source,
    modelCalls: routed.usage?.modelCalls ?? 0,
    promptTokens: routed.usage?.promptTokens ?? 0,
    completionTokens: routed.usage?.completionTokens ?? 0,
    steps: routed.steps ?? [],
  };
  if (meta.path === 'model' || meta.modelCalls > 0)
    log.info({ chatId: chat.id, userId: user.id, ...meta, steps: meta.steps.length }, 'message answered');
  const last = replies.length - 1;
  replies[last] = { ...replies[last]!, meta };
  let chained: Reply | undefined;
  for (const reply of replies.reverse()) chained = { ...reply, followUp: chained };
  return saveExchange(app, chat, input.text, chained!);
}

/** A chip was clicked: the same outcome as typing it, but structured and checked. */
export async function performAction(
  app: AppServices,
  user: SessionUser,
  request: ChatActionRequest,
  router: MessageRouter = parserRouter,
) {
  const chat = await requireChat(app, user, request.chatId);
  const action: ChatAction = request.action;
  if (action.kind === 'send') return sendMessage(app, user, { chatId: chat.id, text: action.text }, router);
  const reply = await replyOrRefusal(async () => {
    if (action.kind === 'set_default_format') return setDefaultFormat(app, user, action.format);
    const ids = [...new Set(action.queryRunIds)];
    const runs = await app.db.queryRun.findMany({ where: { id: { in: ids }, userId: user.id } });
    // All of them the user's, or none: one foreign id refuses the whole request.
    if (runs.length !== ids.length)
      throw new NotFoundError(ids.length === 1 ? 'That query result' : 'One of those query results');
    const ordered = ids.map((id) => runs.find((run) => run.id === id)!);
    if (action.rememberFormat) await saveDefaultFormat(app, user, action.format);
    const memberFormats = action.eachOwnFormat ? await ownFormats(app, user.id, ids) : undefined;
    return startExport(app, user, chat, ordered, action.format, action.archive, false, memberFormats);
  });
  return saveExchange(app, chat, request.label, reply);
}

async function answer(app: AppServices, user: SessionUser, chat: Chat, routed: Routed): Promise<Reply> {
  const action = routed.action;
  switch (action.kind) {
    case 'reply':
      return { content: action.text, payload: null };
    case 'clarify':
      // A click sends the option as the person's next message.
      if (!action.options) return { content: action.question, payload: null };
      return choice(
        action.question,
        action.options.map((option) => ({
          label: option,
          description: null,
          action: { kind: 'send' as const, text: option },
        })),
      );
    case 'done':
      return { content: 'Done.', payload: null };
    case 'query':
      return runQuery(app, user, chat, action.query);
    case 'intent':
      if (action.unsupportedFormat && action.intent.intent === 'export' && action.intent.target !== 'described')
        return askForWrittenFormat(app, chat, action.unsupportedFormat, action.intent);
      return answerIntent(app, user, chat, action.intent, action.description);
    case 'save':
      return saveLatestResult(app, user, chat, action.name);
    case 'ask_data':
      return askAboutData(action.description);
  }
}

/** "Export as pdf": say which formats exist and ask; the default is not used silently for it. */
async function askForWrittenFormat(app: AppServices, chat: Chat, asked: string, intent: Intent): Promise<Reply> {
  const runs = await app.db.queryRun.findMany({ where: { chatId: chat.id }, orderBy: { position: 'asc' } });
  const chosen = runs.length > 0 ? chooseResults(runs, intent) : null;
  const sentence = `I can't write ${asked.toUpperCase()} files: I export CSV, JSON and Excel.`;
  if (!chosen) return { content: `${sentence} Run a query first, for example "show orders".`, payload: null };
  if ('ask' in chosen) return { ...chosen.ask, content: `${sentence} ${chosen.ask.content}` };
  return choice(`${sentence} Which one would you like?`, formatOptions(chosen.runs, chosen.archive));
}

/** A description the offline reader could not resolve: say what it understood, ask, offer what helps. */
function askAboutData(description: Extract<DataDescription, { kind: 'unclear' }>): Reply {
  const understood = description.understood ? `I understood ${description.understood}. ` : '';
  const readings = description.readings.map((reading) => ({
    label: reading.label,
    description: reading.sql,
    action: { kind: 'send' as const, text: reading.sql },
  }));
  const tables = description.readings.length > 0 ? [] : description.tables.slice(0, 6);
  const modelHint = getEnv().OPENAI_API_KEY ? '' : ' (with a model configured I could also work it out)';
  return choice(`${understood}${description.problem} Pick what you mean, or type the SQL${modelHint}.`, [
    ...readings,
    ...tables.map((table) => ({
      label: `show ${table}`,
      description: `see the columns and rows of ${table}`,
      action: { kind: 'send' as const, text: `show ${table}` },
    })),
  ]);
}

/**
 * "Export the customers in Canada as csv": run what the reader derived, show it, and export that
 * result in one step; the SQL stays visible with the result so the person can check what was read.
 */
async function exportDescribed(
  app: AppServices,
  user: SessionUser,
  chat: Chat,
  intent: Intent,
  description: DataDescription,
): Promise<Reply> {
  if (description.kind === 'unclear') return askAboutData(description);
  const result = await runQuery(app, user, chat, { sql: description.sql, title: description.title });
  if (!result.queryRunId) return result;
  const run = await app.db.queryRun.findUniqueOrThrow({ where: { id: result.queryRunId } });
  const ran = `Ran \`${run.sql}\` — ${rowsText(run.rowCount)}.`;
  const { format, fromDefault } = await resolveFormat(app, user, intent);
  const sure = intent.confidence >= CONFIDENCE_THRESHOLD;
  const exported =
    format && sure
      ? await startExport(app, user, chat, [run], format, false, fromDefault)
      : choice(sure ? 'Which format would you like?' : 'Export it? Pick a format.', formatOptions([run], false));
  return { ...result, content: `${ran} ${result.content}`, followUp: exported };
}

/** "save this as weekly revenue": the chat's latest result, under that name. */
async function saveLatestResult(app: AppServices, user: SessionUser, chat: Chat, rawName: string): Promise<Reply> {
  const name = savedQueryNameSchema.safeParse(rawName);
  if (!name.success)
    return { content: name.error.issues[0]?.message ?? 'That name does not work.', payload: { kind: 'error' } };
  const latest = await app.db.queryRun.findFirst({ where: { chatId: chat.id }, orderBy: { position: 'desc' } });
  if (!latest) return { content: 'There is no result in this chat to save yet: run a query first.', payload: null };
  await saveQueryRun(app.db, user, latest.id, name.data);
  return {
    content: `Saved "${latest.title}" as "${name.data}". Find it under Saved queries, where Run & Export runs it again and downloads it.`,
    payload: null,
  };
}

/**
 * Run & Export: runs a saved query in a new chat and downloads it in the default format with no
 * prompt; without a default, asks once with chips that can also remember the choice.
 */
export async function runAndExportSavedQuery(
  app: AppServices,
  user: SessionUser,
  savedQueryId: string,
): Promise<{ chatId: string; messages: ChatMessageView[] }> {
  const saved = await findSavedQuery(app.db, user, savedQueryId);
  const chat = await app.db.chat.create({ data: { userId: user.id, title: saved.name } });
  let exported: Reply | null = null;
  const result = await replyOrRefusal(async () => {
    const ran = await runQuery(app, user, chat, { sql: saved.sql, title: saved.name });
    const run = await app.db.queryRun.findUniqueOrThrow({ where: { id: ran.queryRunId! } });
    const { defaultFormat } = await getPreferences(app.db, user.id);
    exported = defaultFormat
      ? await startExport(app, user, chat, [run], defaultFormat, false, true)
      : choice('Which format? Choose one of the "always" chips to use it from now on.', [
          ...formatOptions([run], false),
          ...EXPORT_FORMAT_NAMES.map((format) => ({
            label: `Always ${EXPORT_FORMATS[format].label}`,
            description: `and use ${EXPORT_FORMATS[format].label} from now on`,
            action: {
              kind: 'export' as const,
              queryRunIds: [run.id],
              format,
              archive: false,
              rememberFormat: true,
              eachOwnFormat: false,
            },
          })),
        ]);
    return ran;
  });
  const userMessage = await app.db.message.create({
    data: { chatId: chat.id, role: 'user', content: `Run & Export: ${saved.name}` },
  });
  const messages = [toView(userMessage)];
  for (const reply of exported ? [result, exported] : [result]) {
    messages.push(toView(await storeReply(app, chat, reply)));
  }
  return { chatId: chat.id, messages };
}

async function runQuery(app: AppServices, user: SessionUser, chat: Chat, query: QuerySpec): Promise<Reply> {
  const { guarded, preview } = await runPreview(app.dataSource, query.sql);
  const title = query.title ?? (guarded.tables.join(', ') || 'query');
  const run = await app.db.$transaction(async (tx) => {
    const last = await tx.queryRun.findFirst({
      where: { chatId: chat.id },
      orderBy: { position: 'desc' },
      select: { position: true },
    });
    return tx.queryRun.create({
      data: {
        chatId: chat.id,
        userId: user.id,
        position: (last?.position ?? 0) + 1,
        sql: guarded.sql,
        title,
        rowCount: preview.totalRows,
      },
    });
  });
  return {
    content: resultText({
      totalRows: preview.totalRows,
      shown: preview.rows.length,
      bytesLimited: preview.bytesLimited,
      cutCells: preview.cutCells,
    }),
    columns: preview.columns,
    payload: {
      kind: 'result',
      queryRunId: run.id,
      position: run.position,
      title,
      sql: guarded.sql,
      columns: previewColumns(preview.columns, preview.rows),
      rows: preview.rows.map((row) => row.map(previewCell)),
      totalRows: preview.totalRows,
      exportDelivery: deliveryFor(preview.totalRows),
    },
    queryRunId: run.id,
  };
}

async function answerIntent(
  app: AppServices,
  user: SessionUser,
  chat: Chat,
  intent: Intent,
  description?: DataDescription,
): Promise<Reply> {
  if (intent.intent === 'cancel') {
    const cancelled = await cancelChatExports(app, user.id, chat.id);
    return {
      content:
        cancelled > 0
          ? `Cancelled ${cancelled === 1 ? 'the export' : `${cancelled} exports`}.`
          : 'Nothing is exporting in this chat right now.',
      payload: null,
    };
  }
  if (intent.intent === 'set_default_format') {
    if (intent.format) return setDefaultFormat(app, user, intent.format);
    return choice(
      'Which format should I use by default?',
      EXPORT_FORMAT_NAMES.map((format) => ({
        label: EXPORT_FORMATS[format].label,
        description: EXPORT_FORMATS[format].useFor,
        action: { kind: 'set_default_format', format },
      })),
    );
  }
  if (intent.intent !== 'export') return { content: 'I did not catch that.', payload: null };
  if (intent.target === 'described') {
    // Never an earlier result: without a description the reader could resolve, ask.
    if (!description) return { content: 'Which data should I export? Describe it, or type the SQL.', payload: null };
    return exportDescribed(app, user, chat, intent, description);
  }
  return answerExport(app, user, chat, intent);
}

async function answerExport(app: AppServices, user: SessionUser, chat: Chat, intent: Intent): Promise<Reply> {
  const runs = await app.db.queryRun.findMany({ where: { chatId: chat.id }, orderBy: { position: 'asc' } });
  if (runs.length === 0) {
    // "export my last result" in a new chat: the user's most recent query from any chat, named.
    const recent = await app.db.queryRun.findFirst({
      where: { userId: user.id },
      orderBy: { createdAt: 'desc' },
      include: { chat: { select: { title: true } } },
    });
    if (!recent)
      return {
        content: 'There is nothing to export yet: run a query first, for example "show orders".',
        payload: null,
      };
    // Never started unasked: it may be large and from another conversation. Offered as chips.
    return choice(
      `This chat has no results yet. Your most recent query is "${recent.title}" (${rowsText(recent.rowCount)}, in "${recent.chat.title}"): export that one?`,
      formatOptions([recent], false),
    );
  }

  const chosen = chooseResults(runs, intent);
  if ('ask' in chosen) return chosen.ask;
  const { runs: selected, archive } = chosen;
  const { format, fromDefault } = await resolveFormat(app, user, intent);
  if (!format)
    return choice(
      archive ? `Which format for the ${selected.length} files in the ZIP?` : 'Which format would you like?',
      formatOptions(selected, archive),
    );
  if (intent.confidence < CONFIDENCE_THRESHOLD) return confirmExport(selected, archive, format);
  return startExport(app, user, chat, selected, format, archive, fromDefault);
}

/** The format asked for, else the user's default (and say so), else none: ask. */
async function resolveFormat(
  app: AppServices,
  user: SessionUser,
  intent: Intent,
): Promise<{ format: ExportFormat | null; fromDefault: boolean }> {
  if (intent.format) return { format: intent.format, fromDefault: false };
  const preferences = await getPreferences(app.db, user.id);
  return { format: preferences.defaultFormat, fromDefault: preferences.defaultFormat !== null };
}

async function startExport(
  app: AppServices,
  user: SessionUser,
  chat: Chat,
  runs: QueryRun[],
  format: ExportFormat,
  archive: boolean,
  fromDefault: boolean,
  memberFormats?: Record<string, ExportFormat>,
): Promise<Reply> {
  const what = exportDescription(runs, format, archive, fromDefault, memberFormats);
  const files = runs.map((run) => ({
    queryRunId: run.id,
    position: run.position,
    title: run.title,
    rowCount: run.rowCount,
  }));
  const started = (content: string, record: { id: string; archive: boolean }, delivery: ExportDelivery): Reply => ({
    content,
    payload: {
      kind: 'export',
      exportId: record.id,
      format,
      archive: record.archive,
      delivery,
      downloadUrl: exportDownloadPath(record.id),
      files,
    },
  });

  // Large exports become a job (progress in the chat, a file kept for an hour); the same job's file,
  // still kept, is offered again rather than run twice.
  const plan = await planExport(app, user, {
    contents: { queryRunIds: runs.map((run) => run.id), memberFormats },
    format,
    archive,
    chatId: chat.id,
  });
  if (plan.reused) {
    const finished = plan.record.finishedAt ?? plan.record.createdAt;
    const minutes = Math.max(1, Math.round((Date.now() - finished.getTime()) / 60_000));
    return started(
      `The same export (${what}) finished ${minutes} min ago and is still available: downloading that file.`,
      plan.record,
      'file',
    );
  }
  if (plan.delivery === 'file')
    return started(`Preparing ${what}. It downloads when ready and stays available for an hour.`, plan.record, 'file');
  return started(`Exporting ${what}.`, plan.record, 'stream');
}

async function saveDefaultFormat(app: AppServices, user: SessionUser, format: ExportFormat): Promise<void> {
  await updatePreferences(app.db, user.id, { defaultFormat: format });
}

async function setDefaultFormat(app: AppServices, user: SessionUser, format: ExportFormat): Promise<Reply> {
  await saveDefaultFormat(app, user, format);
  return {
    content: `Done: from now on, "export this" gives ${EXPORT_FORMATS[format].label} unless you ask for another format.`,
    payload: null,
  };
}

/**
 * More of a result than the chat stored: up to 1,000 rows, run again now (the thread keeps 100 per
 * result so it stays light). Another user's query run is NOT_FOUND, like a missing one.
 */
export async function previewRows(
  app: AppServices,
  user: SessionUser,
  queryRunId: string,
): Promise<Pick<QueryResultPayload, 'columns' | 'rows' | 'totalRows'>> {
  const run = await app.db.queryRun.findFirst({ where: { id: queryRunId, userId: user.id } });
  if (!run) throw new NotFoundError('That query result');
  const { preview } = await runPreview(app.dataSource, run.sql, EXTENDED_PREVIEW_ROW_LIMIT);
  return {
    columns: previewColumns(preview.columns, preview.rows),
    rows: preview.rows.map((row) => row.map(previewCell)),
    totalRows: preview.totalRows,
  };
}
