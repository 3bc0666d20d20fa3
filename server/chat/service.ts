import { messagePayloadSchema, type MessagePayload, type SendMessageInput } from '@/lib/chat-message';
import type { Message } from '../db/client';
import { NotFoundError, UserFacingError } from '../errors';
import { previewCell, previewColumns } from '../export/cells';
import { allowedTables, runPreview } from '../query/service';
import type { AppServices } from '../services';
import type { SessionUser } from '../auth/service';
import { understandMessage } from './understand';

export interface ChatMessageView {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  payload: MessagePayload | null;
  createdAt: Date;
}

function toView(message: Message): ChatMessageView {
  let payload: MessagePayload | null = null;
  if (message.payload) {
    const parsed = messagePayloadSchema.safeParse(JSON.parse(message.payload));
    payload = parsed.success ? parsed.data : null;
  }
  return { id: message.id, role: message.role === 'user' ? 'user' : 'assistant', content: message.content, payload, createdAt: message.createdAt };
}

export async function listChats(app: AppServices, user: SessionUser) {
  return app.db.chat.findMany({ where: { userId: user.id }, orderBy: { updatedAt: 'desc' }, take: 100, select: { id: true, title: true, updatedAt: true } });
}

async function requireChat(app: AppServices, user: SessionUser, chatId: string) {
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

/** Stores the user's message, answers it, stores the answer. Query errors become the answer's text. */
export async function sendMessage(app: AppServices, user: SessionUser, input: SendMessageInput): Promise<{ chatId: string; messages: ChatMessageView[] }> {
  const chat = input.chatId ? await requireChat(app, user, input.chatId) : await app.db.chat.create({ data: { userId: user.id, title: chatTitle(input.text) } });
  const userMessage = await app.db.message.create({ data: { chatId: chat.id, role: 'user', content: input.text } });

  const action = understandMessage(input.text, await allowedTables(app.dataSource));
  let reply: { content: string; payload: MessagePayload | null; queryRunId: string | null };
  if (action.kind === 'reply') {
    reply = { content: action.text, payload: null, queryRunId: null };
  } else {
    try {
      const { guarded, preview } = await runPreview(app.dataSource, action.sql);
      const title = action.title ?? (guarded.tables.join(', ') || 'query');
      const run = await app.db.$transaction(async (tx) => {
        const last = await tx.queryRun.findFirst({ where: { chatId: chat.id }, orderBy: { position: 'desc' }, select: { position: true } });
        return tx.queryRun.create({ data: { chatId: chat.id, userId: user.id, position: (last?.position ?? 0) + 1, sql: guarded.sql, title, rowCount: preview.totalRows } });
      });
      const shown = preview.rows.length;
      const count = preview.totalRows.toLocaleString('en-US');
      reply = {
        content: shown < preview.totalRows ? `${count} rows. Showing the first ${shown}.` : `${count} ${preview.totalRows === 1 ? 'row' : 'rows'}.`,
        payload: {
          kind: 'result',
          queryRunId: run.id,
          position: run.position,
          title,
          sql: guarded.sql,
          columns: previewColumns(preview.columns, preview.rows),
          rows: preview.rows.map((row) => row.map(previewCell)),
          totalRows: preview.totalRows,
        },
        queryRunId: run.id,
      };
    } catch (error) {
      if (!(error instanceof UserFacingError)) throw error;
      reply = { content: error.message, payload: { kind: 'error' }, queryRunId: null };
    }
  }
  const assistantMessage = await app.db.message.create({
    data: { chatId: chat.id, role: 'assistant', content: reply.content, payload: reply.payload ? JSON.stringify(reply.payload) : null, queryRunId: reply.queryRunId },
  });
  await app.db.chat.update({ where: { id: chat.id }, data: { updatedAt: new Date() } });
  return { chatId: chat.id, messages: [toView(userMessage), toView(assistantMessage)] };
}
