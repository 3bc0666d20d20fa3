// The seam where a chat message becomes an action. Today it understands SQL and "show <table>"; the
// intent router (OpenAI tool calls with a fallback parser) plugs in here.

export type ChatAction =
  | { kind: 'query'; sql: string; title?: string }
  | { kind: 'save'; name: string }
  | { kind: 'reply'; text: string };

// "save this as weekly revenue", "save the last query as Big orders" (a format word makes it an export).
const SAVE_AS =
  /^\s*(?:please\s+)?save\s+(?:this|that|it|the\s+(?:last\s+|latest\s+)?(?:query|result|results))\s+as\s+["“']?(.+?)["”']?\s*[.!]?\s*$/i;

const READ_STATEMENT = /^\s*(select|with)\b/i;
// Statements that are not reads still go to the SQL guard, which explains why they cannot run.
const OTHER_STATEMENT =
  /^\s*(insert|update|delete|drop|create|alter|replace|pragma|attach|detach|vacuum|truncate|grant|revoke|begin|commit|rollback|copy|merge|call|do|set|reindex|analyze|explain)\b/i;
const SHOW_TABLE =
  /^\s*(?:please\s+)?(?:show|list|display|open|view)(?:\s+me)?(?:\s+all)?(?:\s+(?:the|my))?(?:\s+of\s+the)?\s+([a-z_][a-z0-9_ ]*?)(?:\s+table)?\s*(?:please)?\s*[.!?]*\s*$/i;

function helpText(tables: readonly string[]): string {
  return `I can run SQL for you (start with SELECT or WITH) and show a table: try "show orders". Tables you can query: ${tables.join(', ')}.`;
}

function matchTable(phrase: string, tables: readonly string[]): string | undefined {
  const wanted = phrase.trim().toLowerCase().replace(/\s+/g, '_');
  return tables.find((table) => {
    const name = table.toLowerCase();
    return name === wanted || name === `${wanted}s` || `${name}s` === wanted;
  });
}

export function understandMessage(text: string, tables: readonly string[]): ChatAction {
  if (READ_STATEMENT.test(text) || OTHER_STATEMENT.test(text)) {
    return { kind: 'query', sql: text.trim() };
  }
  const save = SAVE_AS.exec(text);
  if (save?.[1]) return { kind: 'save', name: save[1].trim() };
  const show = SHOW_TABLE.exec(text);
  if (show?.[1]) {
    const table = matchTable(show[1], tables);
    if (table) return { kind: 'query', sql: `SELECT * FROM ${table}`, title: table };
    return {
      kind: 'reply',
      text: `I don't know a table called "${show[1].trim()}". Tables you can query: ${tables.join(', ')}.`,
    };
  }
  return { kind: 'reply', text: helpText(tables) };
}
