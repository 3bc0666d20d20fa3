import { z } from 'zod';
import { chatActionInputSchema } from '@/lib/chat-action';
import { sendMessageInputSchema } from '@/lib/chat-message';
import { getChatMessages, listChats, performAction, sendMessage } from '../../chat/service';
import { getEnv } from '../../env';
import { allowedTables } from '../../query/service';
import { createTRPCRouter, protectedProcedure } from '../init';

const chatIdSchema = z.object({ chatId: z.string().min(1).max(64) });

export const chatRouter = createTRPCRouter({
  list: protectedProcedure.query(({ ctx }) => listChats(ctx.services, ctx.user)),
  messages: protectedProcedure.input(chatIdSchema).query(({ ctx, input }) => getChatMessages(ctx.services, ctx.user, input.chatId)),
  send: protectedProcedure.input(sendMessageInputSchema).mutation(({ ctx, input }) => sendMessage(ctx.services, ctx.user, input, ctx.router)),
  act: protectedProcedure.input(chatActionInputSchema).mutation(({ ctx, input }) => performAction(ctx.services, ctx.user, input, ctx.router)),
  info: protectedProcedure.query(async ({ ctx }) => ({
    tables: await allowedTables(ctx.services.dataSource),
    // Without a key the assistant runs on the fallback parser: the UI shows an offline badge.
    mode: getEnv().OPENAI_API_KEY ? ('model' as const) : ('offline' as const),
  })),
});
