import { credentialsSchema, signUpSchema } from '@/lib/credentials';
import { sessionCookie, signIn, signOut, signUp } from '../../auth/service';
import { createTRPCRouter, protectedProcedure, publicProcedure, type TrpcContext } from '../init';

function setSessionCookie(ctx: TrpcContext, session: { token: string; expiresAt: Date } | null) {
  ctx.resHeaders.append('Set-Cookie', sessionCookie(session, ctx.secureCookies));
}

export const authRouter = createTRPCRouter({
  signIn: publicProcedure.input(credentialsSchema).mutation(async ({ ctx, input }) => {
    const session = await signIn(ctx.services.db, input);
    setSessionCookie(ctx, session);
    return session.user;
  }),
  signUp: publicProcedure.input(signUpSchema).mutation(async ({ ctx, input }) => {
    const session = await signUp(ctx.services.db, input);
    setSessionCookie(ctx, session);
    return session.user;
  }),
  signOut: protectedProcedure.mutation(async ({ ctx }) => {
    await signOut(ctx.services.db, ctx.sessionToken);
    setSessionCookie(ctx, null);
    return { signedOut: true };
  }),
  me: protectedProcedure.query(({ ctx }) => ctx.user),
});
