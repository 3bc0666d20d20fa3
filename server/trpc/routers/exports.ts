import { z } from 'zod';
import { idSchema } from '@/lib/ids';
import { followProgress } from '../../jobs/progress';
import { createTRPCRouter, protectedProcedure, toTrpcError } from '../init';

const exportIdSchema = z.object({ exportId: idSchema });

export const exportsRouter = createTRPCRouter({
  /** Rows written, total, percent and ETA of a large export, until it ends (SSE). */
  progress: protectedProcedure.input(exportIdSchema).subscription(async function* ({ ctx, input, signal }) {
    try {
      yield* followProgress(ctx.services, ctx.user.id, input.exportId, signal);
    } catch (error) {
      throw toTrpcError(error);
    }
  }),
  cancel: protectedProcedure
    .input(exportIdSchema)
    .mutation(async ({ ctx, input }) => ({ cancelled: await ctx.services.jobs.cancel(ctx.user.id, input.exportId) })),
});
