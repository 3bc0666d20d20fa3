import { z } from 'zod';

/** The id of anything a user owns (chat, query run, export, saved query): what every boundary accepts. */
export const idSchema = z.string().min(1).max(64);
