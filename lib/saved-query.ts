import { z } from 'zod';

export const savedQueryNameSchema = z
  .string()
  .trim()
  .min(1, 'Give the query a name.')
  .max(80, 'Names are limited to 80 characters.');

export const saveQueryInputSchema = z.object({ queryRunId: z.string().min(1).max(64), name: savedQueryNameSchema });
export const renameSavedQueryInputSchema = z.object({ id: z.string().min(1).max(64), name: savedQueryNameSchema });
export const savedQueryIdSchema = z.object({ id: z.string().min(1).max(64) });
