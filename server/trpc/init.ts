import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { ZodError, z } from 'zod';
import { sessionTokenFromCookieHeader, userForSessionToken, type SessionUser } from '../auth/service';
import { describeError } from '../errors';
import type { MessageRouter } from '../intent/router';
import { getMessageRouter } from '../intent/select-router';
import { log } from '../log';
import type { AppServices } from '../app-services';
import { getAppServices } from '../services';

export interface TrpcContext {
  services: AppServices;
  user: SessionUser | null;
  sessionToken: string | undefined;
  /** Response headers: auth procedures set the session cookie here. */
  resHeaders: Headers;
  secureCookies: boolean;
  /** How chat messages are understood: the OpenAI router when configured, else the parser. */
  messageRouter: MessageRouter;
}

export async function createTrpcContext(options: {
  req: Request;
  resHeaders: Headers;
  services?: AppServices;
  messageRouter?: MessageRouter;
}): Promise<TrpcContext> {
  const services = options.services ?? (await getAppServices());
  const sessionToken = sessionTokenFromCookieHeader(options.req.headers.get('cookie'));
  const forwardedProto = options.req.headers.get('x-forwarded-proto');
  return {
    services,
    user: await userForSessionToken(services.db, sessionToken),
    sessionToken,
    resHeaders: options.resHeaders,
    secureCookies: (forwardedProto ?? new URL(options.req.url).protocol.replace(':', '')) === 'https',
    messageRouter: options.messageRouter ?? getMessageRouter(),
  };
}

const t = initTRPC.context<TrpcContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : null;
    const firstIssue = zodError?.issues[0];
    return {
      ...shape,
      // A person reads this: the first field problem as a sentence, never a stack or SQL internals.
      message: firstIssue
        ? firstIssue.message
        : error.code === 'INTERNAL_SERVER_ERROR'
          ? describeError(null).message
          : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        fieldErrors: zodError ? z.flattenError(zodError).fieldErrors : null,
      },
    };
  },
});

/** A service error as the tRPC error the client should see; anything unexpected stays internal. */
export function toTrpcError(error: unknown): TRPCError {
  const cause = error instanceof TRPCError ? (error.cause ?? error) : error;
  const described = describeError(cause);
  if (!described.internal)
    return new TRPCError({ code: described.code, message: described.message, cause: cause as Error });
  // tRPC's own errors (bad input, UNAUTHORIZED from the middleware) pass as they are.
  if (error instanceof TRPCError) return error;
  log.error({ err: error }, 'internal error in a tRPC procedure');
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: error instanceof Error ? error : undefined });
}

/** Service errors → tRPC codes, so routers stay thin. */
const mapServiceErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTrpcError(result.error);
  return result;
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapServiceErrors);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Please sign in.' });
  return next({ ctx: { ...ctx, user: ctx.user } });
});
