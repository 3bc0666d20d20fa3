import { renameSavedQueryInputSchema, savedQueryIdSchema, saveQueryInputSchema } from '@/lib/saved-query';
import { runAndExportSavedQuery } from '../../chat/service';
import { deleteSavedQuery, listSavedQueries, renameSavedQuery, saveQueryRun } from '../../saved-queries/service';
import { createTRPCRouter, protectedProcedure } from '../init';

export const savedQueriesRouter = createTRPCRouter({
  list: protectedProcedure.query(({ ctx }) => listSavedQueries(ctx.services.db, ctx.user)),
  save: protectedProcedure
    .input(saveQueryInputSchema)
    .mutation(({ ctx, input }) => saveQueryRun(ctx.services.db, ctx.user, input.queryRunId, input.name)),
  rename: protectedProcedure
    .input(renameSavedQueryInputSchema)
    .mutation(({ ctx, input }) => renameSavedQuery(ctx.services.db, ctx.user, input.id, input.name)),
  delete: protectedProcedure.input(savedQueryIdSchema).mutation(async ({ ctx, input }) => {
    await deleteSavedQuery(ctx.services.db, ctx.user, input.id);
    return { deleted: true };
  }),
  runAndExport: protectedProcedure
    .input(savedQueryIdSchema)
    .mutation(({ ctx, input }) => runAndExportSavedQuery(ctx.services, ctx.user, input.id)),
});
