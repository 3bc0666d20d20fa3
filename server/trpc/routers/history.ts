import { exportIdInputSchema, exportQueriesInputSchema } from '@/lib/export-request';
import { queryRunsFilterSchema } from '@/lib/query-run';
import { finishedExportsInputSchema, historyFilterSchema } from '@/lib/history';
import { exportAgain, exportQueryRuns } from '../../export/service';
import { exportHistory, finishedExports } from '../../history/service';
import { createTRPCRouter, protectedProcedure } from '../init';

export const historyRouter = createTRPCRouter({
  list: protectedProcedure
    .input(historyFilterSchema)
    .query(({ ctx, input }) => exportHistory(ctx.services, ctx.user, input)),
  /** Jobs that finished since the last ask, for the toasts (poll; `now` is the next `after`). */
  finished: protectedProcedure
    .input(finishedExportsInputSchema)
    .query(({ ctx, input }) => finishedExports(ctx.services, ctx.user, input.after)),
  /** The user's query runs, newest first: this chat's or all of them. */
  queries: protectedProcedure.input(queryRunsFilterSchema).query(({ ctx, input }) =>
    ctx.services.db.queryRun.findMany({
      where: { userId: ctx.user.id, ...(input.chatId ? { chatId: input.chatId } : {}) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: 200,
      select: {
        id: true,
        title: true,
        sql: true,
        rowCount: true,
        position: true,
        createdAt: true,
        chat: { select: { id: true, title: true } },
      },
    }),
  ),
  exportQueries: protectedProcedure
    .input(exportQueriesInputSchema)
    .mutation(({ ctx, input }) => exportQueryRuns(ctx.services, ctx.user, input.queryRunIds, input.format)),
  exportAgain: protectedProcedure
    .input(exportIdInputSchema)
    .mutation(({ ctx, input }) => exportAgain(ctx.services, ctx.user, input.exportId)),
});
