import { createCallerFactory, createTRPCRouter } from './init';
import { authRouter } from './routers/auth';
import { chatRouter } from './routers/chat';
import { exportsRouter } from './routers/exports';
import { historyRouter } from './routers/history';
import { preferencesRouter } from './routers/preferences';
import { savedQueriesRouter } from './routers/saved-queries';

export const appRouter = createTRPCRouter({
  auth: authRouter,
  chat: chatRouter,
  exports: exportsRouter,
  preferences: preferencesRouter,
  savedQueries: savedQueriesRouter,
  history: historyRouter,
});

export type AppRouter = typeof appRouter;

/** Calls procedures without HTTP: server components and tests. */
export const createCaller = createCallerFactory(appRouter);
