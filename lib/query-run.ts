import { z } from 'zod';
import { idSchema } from './ids';

// A query run: one result a chat produced (its SQL, title and row count), the thing exports are made of.

/** One of the user's results. */
export const queryRunIdInputSchema = z.object({ queryRunId: idSchema });

/** The user's results, of one chat or (null) of all chats. */
export const queryRunsFilterSchema = z.object({ chatId: idSchema.nullable() });
export type QueryRunsFilter = z.infer<typeof queryRunsFilterSchema>;
