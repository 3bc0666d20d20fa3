import { z } from 'zod';
import { idSchema } from './ids';
import { chatOptionSchema } from './chat-action';
import { exportDeliverySchema, exportFormatSchema } from './export-request';
import { MAX_MESSAGE_LENGTH } from './limits';

/** A preview cell as the browser receives it: big integers and exact decimals arrive as text. */
const previewCellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const previewColumnSchema = z.object({ name: z.string(), numeric: z.boolean() });

export const queryResultPayloadSchema = z.object({
  kind: z.literal('result'),
  queryRunId: z.string(),
  position: z.number().int().positive(),
  title: z.string(),
  sql: z.string(),
  columns: z.array(previewColumnSchema),
  rows: z.array(z.array(previewCellSchema)),
  totalRows: z.number().int().nonnegative(),
  /** How its export chips deliver, as the server decided: a link that streams, or a job. */
  exportDelivery: exportDeliverySchema.default('stream'),
});

const errorPayloadSchema = z.object({ kind: z.literal('error') });

/** An export the assistant started: the browser downloads it as soon as the message arrives. */
export const exportPayloadSchema = z.object({
  kind: z.literal('export'),
  exportId: z.string(),
  format: exportFormatSchema,
  archive: z.boolean(),
  /** "file": a job prepares it with progress, then it downloads; "stream": it downloads at once. */
  delivery: exportDeliverySchema.default('stream'),
  downloadUrl: z.string(),
  files: z.array(
    z.object({ queryRunId: z.string(), position: z.number().int(), title: z.string(), rowCount: z.number().int() }),
  ),
});

/** A question with one chip per answer. */
export const choicePayloadSchema = z.object({
  kind: z.literal('choice'),
  options: z.array(chatOptionSchema),
});

/** What an assistant message carries besides its text. Stored as JSON, validated on read. */
export const messagePayloadSchema = z.discriminatedUnion('kind', [
  queryResultPayloadSchema,
  errorPayloadSchema,
  exportPayloadSchema,
  choicePayloadSchema,
]);
export type MessagePayload = z.infer<typeof messagePayloadSchema>;
export type QueryResultPayload = z.infer<typeof queryResultPayloadSchema>;

const chatMessageTextSchema = z
  .string()
  .trim()
  .min(1, 'Type a message first.')
  .max(MAX_MESSAGE_LENGTH, `Messages are limited to ${MAX_MESSAGE_LENGTH.toLocaleString('en-US')} characters.`);

/** One step the model took while answering: a tool it called and how that went. */
export const agentStepSchema = z.object({
  tool: z.string(),
  /** What it asked for, e.g. the SQL of a query, shortened. */
  detail: z.string(),
  ok: z.boolean(),
  /** The outcome in a few words: "42 rows", or the error it was given back. */
  outcome: z.string(),
});
export type AgentStep = z.infer<typeof agentStepSchema>;

/** How an assistant message was answered, for the person (collapsible steps) and the operator (cost). */
export const messageMetaSchema = z.object({
  path: z.enum(['model', 'parser']),
  modelCalls: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  steps: z.array(agentStepSchema),
});
export type MessageMeta = z.infer<typeof messageMetaSchema>;

/** One of the user's chats. */
export const chatIdInputSchema = z.object({ chatId: idSchema });

export const sendMessageInputSchema = z.object({
  chatId: idSchema.nullable(),
  text: chatMessageTextSchema,
});
export type SendMessageInput = z.infer<typeof sendMessageInputSchema>;
