import { z } from 'zod';
import { idSchema } from './ids';

export const savedQueryNameSchema = z
  .string()
  .trim()
  .min(1, 'Give the query a name.')
  .max(80, 'Names are limited to 80 characters.');

export const saveQueryInputSchema = z.object({ queryRunId: idSchema, name: savedQueryNameSchema });
export const renameSavedQueryInputSchema = z.object({ id: idSchema, name: savedQueryNameSchema });
export const savedQueryIdSchema = z.object({ id: idSchema });
