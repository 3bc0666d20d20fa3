/** Longest chat message accepted, in characters. */
export const MAX_MESSAGE_LENGTH = 4_000;
/** Rows of a result shown in the chat; exports always carry every row. */
export const PREVIEW_ROW_LIMIT = 100;
