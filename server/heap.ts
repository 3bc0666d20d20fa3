import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what was live after its last full collection, in
 * percent. Left to itself V8 picks a factor of up to 4× from its throughput estimate; the server
 * holds a lot live (Next, Prisma), so an export's short-lived garbage let RSS drift far above what
 * is in use (a million-row XLSX export: 250 MB peak server RSS; 181 MB with 50%, same wall
 * time; `npm run bench -- --formats xlsx,csv,json`). Unlike a heap cap (--max-old-space-size) this
 * only makes full collections more frequent: it cannot run the process out of memory.
 */
export const HEAP_GROWING_PERCENT = 50;

/** Applies the growth limit to this process; V8 reads it whenever it sets the next collection's limit. */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
