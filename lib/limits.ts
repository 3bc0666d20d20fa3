/** Longest chat message accepted, in characters. */
export const MAX_MESSAGE_LENGTH = 4_000;
/** Rows of a result shown in the chat; exports always carry every row. */
export const PREVIEW_ROW_LIMIT = 100;
/** Rows a person can ask to see of one result in the chat ("Show 1,000 rows"); fetched, not stored. */
export const EXTENDED_PREVIEW_ROW_LIMIT = 1_000;
/** Characters of one value shown in the chat; longer values show their start and their length. */
export const PREVIEW_CELL_CHARS = 500;
/** Bytes of values one preview may hold (stored in the chat); past it, fewer rows are shown. */
export const PREVIEW_MAX_BYTES = 512 * 1024;
