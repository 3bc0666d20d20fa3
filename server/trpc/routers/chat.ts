import { chatActionInputSchema } from '@/lib/chat-action';
import { chatIdInputSchema, sendMessageInputSchema } from '@/lib/chat-message';
import { queryRunIdInputSchema } from '@/lib/query-run';
import {
  getChatMessages,
  listChats,
  performAction,
  previewRows,
  sendMessage,
  type ChatMessageView,
} from '../../chat/service';
import { getEnv } from '../../env';
import { allowedTables } from '../../query/service';
import { createTRPCRouter, protectedProcedure, toTrpcError } from '../init';

export type SendEvent = { type: 'text'; delta: string } | { type: 'done'; chatId: string; messages: ChatMessageView[] };

export const chatRouter = createTRPCRouter({
  list: protectedProcedure.query(({ ctx }) => listChats(ctx.services, ctx.user)),
  messages: protectedProcedure
    .input(chatIdInputSchema)
    .query(({ ctx, input }) => getChatMessages(ctx.services, ctx.user, input.chatId)),
  /** Up to 1,000 rows of one of the user's results, for "Show 1,000 rows". */
  previewRows: protectedProcedure
    .input(queryRunIdInputSchema)
    .query(({ ctx, input }) => previewRows(ctx.services, ctx.user, input.queryRunId)),
  /** Streams the model's words as they come (OpenAI path), then the stored exchange. */
  send: protectedProcedure.input(sendMessageInputSchema).mutation(async function* ({
    ctx,
    input,
  }): AsyncGenerator<SendEvent> {
    const pending: string[] = [];
    let wake: (() => void) | null = null;
    const answer = sendMessage(ctx.services, ctx.user, input, ctx.messageRouter, (delta) => {
      pending.push(delta);
      wake?.();
    });
    let settled = false;
    const settle = () => {
      settled = true;
      wake?.();
    };
    void answer.then(settle, settle);
    while (!settled || pending.length > 0) {
      if (pending.length > 0) {
        yield { type: 'text', delta: pending.splice(0).join('') };
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
    // Errors thrown while streaming pass no middleware: map them here, same as everywhere else.
    yield { type: 'done', ...(await answer.catch((error: unknown) => Promise.reject(toTrpcError(error)))) };
  }),
  act: protectedProcedure
    .input(chatActionInputSchema)
    .mutation(({ ctx, input }) => performAction(ctx.services, ctx.user, input, ctx.messageRouter)),
  info: protectedProcedure.query(async ({ ctx }) => ({
    tables: await allowedTables(ctx.services.dataSource),
    // Without a key the assistant runs on the fallback parser: the UI shows an offline badge.
    mode: getEnv().OPENAI_API_KEY ? ('model' as const) : ('offline' as const),
  })),
});
