import { preferencesUpdateSchema } from '@/lib/preferences';
import { getPreferences, updatePreferences } from '../../preferences/service';
import { createTRPCRouter, protectedProcedure } from '../init';

export const preferencesRouter = createTRPCRouter({
  get: protectedProcedure.query(({ ctx }) => getPreferences(ctx.services.db, ctx.user.id)),
  update: protectedProcedure
    .input(preferencesUpdateSchema)
    .mutation(({ ctx, input }) => updatePreferences(ctx.services.db, ctx.user.id, input)),
});
