import { exportIdInputSchema } from '@/lib/export-request';
import { followProgress } from '../../jobs/progress';
import { createTRPCRouter, protectedProcedure, toTrpcError } from '../init';

export const exportsRouter = createTRPCRouter({
  /** Rows written, total, percent and ETA of a large export, until it ends (SSE). */
  progress: protectedProcedure.input(exportIdInputSchema).subscription(async function* ({ ctx, input, signal }) {
    try {
      yield* followProgress(ctx.services, ctx.user.id, input.exportId, signal);
    } catch (error) {
      throw toTrpcError(error);
    }
  }),
  cancel: protectedProcedure
    .input(exportIdInputSchema)
    .mutation(async ({ ctx, input }) => ({ cancelled: await ctx.services.jobs.cancel(ctx.user.id, input.exportId) })),
});
