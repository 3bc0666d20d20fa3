import { z } from 'zod';
import { exportFormatSchema } from './export-request';

// The Intent contract (DESIGN.md §3): every chat message becomes one of these, whether the OpenAI
// path or the fallback parser produced it. The tool definitions sent to the model are derived from
// the argument schemas below, so the model, the parser and the chat service share one definition.

export const intentFormatSchema = exportFormatSchema.describe(
  'csv for spreadsheets, json for code and APIs, xlsx for Excel',
);
export type IntentFormat = z.infer<typeof intentFormatSchema>;

export const intentKindSchema = z.enum(['export', 'set_default_format', 'cancel', 'other']);

/** Targets that point at earlier results of the chat. */
export const resultTargetSchema = z.enum(['latest', 'previous', 'nth', 'all']);
/** …and `described`: the message describes the data itself ("the customers in Canada"), never an earlier result. */
export const intentTargetSchema = z.enum([...resultTargetSchema.options, 'described']);
export type IntentTarget = z.infer<typeof intentTargetSchema>;

export const intentSchema = z.object({
  intent: intentKindSchema,
  format: intentFormatSchema.nullable(),
  target: intentTargetSchema.nullable(),
  nth: z.number().int().positive().nullable(),
  /** The SQL the offline reader derived for a described export or a question it could answer, else null. */
  sql: z.string().nullable(),
  confidence: z.number().min(0).max(1),
});
export type Intent = z.infer<typeof intentSchema>;

/** Below this confidence the assistant asks instead of acting. */
export const CONFIDENCE_THRESHOLD = 0.6;

// Tool arguments (OpenAI function calling). Nullable rather than optional: strict tool schemas need
// every property listed.
export const exportResultsArgsSchema = z.object({
  format: intentFormatSchema
    .nullable()
    .describe(
      'The format the user asked for, or null when they did not say (the app then uses their default or asks).',
    ),
  target: resultTargetSchema.describe(
    'latest: this/that/it/the last query; previous: the one before; nth: query number N of this chat; all: every query of the chat as one ZIP.',
  ),
  nth: z.number().int().positive().nullable().describe('1-based query number when target is nth, else null.'),
});

export const setDefaultFormatArgsSchema = z.object({ format: intentFormatSchema });
export const cancelExportArgsSchema = z.object({});
export const askClarificationArgsSchema = z.object({
  question: z.string().min(1).max(500).describe('One short question for the user.'),
  options: z
    .array(z.string().min(1).max(80))
    .min(2)
    .max(5)
    .nullable()
    .describe('2 to 5 short answers the user can click, each sent as their next message; null if none fit.'),
});

export const listTablesArgsSchema = z.object({});
export const describeTableArgsSchema = z.object({
  table: z.string().min(1).max(128).describe('A table name from list_tables.'),
});

/** A query to run on the data source: what the run_query tool and typed SQL both produce. */
export const querySpecSchema = z.object({
  sql: z.string().min(1).max(20_000).describe('One read-only SELECT or WITH statement in the data source dialect.'),
  title: z
    .string()
    .min(1)
    .max(80)
    .nullable()
    .describe('A short human title for the result, e.g. "Orders over $500 last month".'),
});
export type QuerySpec = z.infer<typeof querySpecSchema>;
