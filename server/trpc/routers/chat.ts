import { z } from 'zod';
import { sendMessageInputSchema } from '@/lib/chat-message';
import { getChatMessages, listChats, sendMessage } from '../../chat/service';
import { allowedTables } from '../../query/service';
import { createTRPCRouter, protectedProcedure } from '../init';

const chatIdSchema = z.object({ chatId: z.string().min(1).max(64) });

export const chatRouter = createTRPCRouter({
  list: protectedProcedure.query(({ ctx }) => listChats(ctx.services, ctx.user)),
  messages: protectedProcedure.input(chatIdSchema).query(({ ctx, input }) => getChatMessages(ctx.services, ctx.user, input.chatId)),
  send: protectedProcedure.input(sendMessageInputSchema).mutation(({ ctx, input }) => sendMessage(ctx.services, ctx.user, input)),
  tables: protectedProcedure.query(({ ctx }) => allowedTables(ctx.services.dataSource)),
});
