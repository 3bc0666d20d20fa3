import { z } from 'zod';
import { idSchema } from './ids';
import { exportFormatSchema } from './export-request';

/**
 * What a clickable chip in the chat does. Chips send one of these through tRPC — structured, never
 * as text to be parsed again — and the server checks that everything named belongs to the user.
 */
export const chatActionSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('export'),
    queryRunIds: z.array(idSchema).min(1).max(50),
    format: exportFormatSchema,
    /** Several runs become one ZIP. */
    archive: z.boolean(),
    /** Also save the format as the user's default. */
    rememberFormat: z.boolean().default(false),
    /** "Each its own": every query in the format it was last exported in (else the default, else CSV). */
    eachOwnFormat: z.boolean().default(false),
  }),
  z.object({ kind: z.literal('set_default_format'), format: exportFormatSchema }),
  z.object({ kind: z.literal('send'), text: z.string().min(1).max(200) }),
]);
export type ChatAction = z.infer<typeof chatActionSchema>;

export const chatActionInputSchema = z.object({
  chatId: idSchema,
  /** What the chip said, shown in the thread as the user's turn. */
  label: z.string().min(1).max(200),
  action: chatActionSchema,
});
export type ChatActionRequest = z.infer<typeof chatActionInputSchema>;

export const chatOptionSchema = z.object({
  label: z.string(),
  description: z.string().nullable(),
  action: chatActionSchema,
});
export type ChatOption = z.infer<typeof chatOptionSchema>;
