import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering rules of the codebase, read off the import statements of every source file: no
// cycles, lib/ imports nothing from server/, and only the wiring imports services.ts.

const ROOT = process.cwd();
const SOURCE_DIRS = ['app', 'components', 'lib', 'server'];
const EXTENSIONS = ['.ts', '.tsx'];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((entry) => {
    const relative = path.join(dir, entry);
    if (relative.startsWith(path.join('server', 'db', 'generated'))) return [];
    if (statSync(path.join(ROOT, relative)).isDirectory()) return sourceFiles(relative);
    return EXTENSIONS.some((extension) => entry.endsWith(extension)) ? [relative] : [];
  });
}

/** The project file an import specifier names, or null for packages and Node built-ins. */
function resolve(from: string, specifier: string): string | null {
  const base = specifier.startsWith('@/')
    ? path.join(ROOT, specifier.slice(2))
    : specifier.startsWith('.')
      ? path.resolve(ROOT, path.dirname(from), specifier)
      : null;
  if (!base) return null;
  for (const candidate of [
    base,
    ...EXTENSIONS.map((extension) => base + extension),
    ...EXTENSIONS.map((extension) => path.join(base, `index${extension}`)),
  ]) {
    try {
      if (statSync(candidate).isFile()) return path.relative(ROOT, candidate);
    } catch {
      // not this candidate
    }
  }
  return null;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Imports that reach the bundle: `import type` and `export type` are erased by the compiler. */
const TYPE_ONLY = /^\s*(?:import|export)\s+type\s/;

const files = SOURCE_DIRS.flatMap(sourceFiles);
const texts = new Map(files.map((file) => [file, readFileSync(path.join(ROOT, file), 'utf8')] as const));
function importsOf(file: string, includeTypes: boolean): string[] {
  const targets = [...texts.get(file)!.matchAll(IMPORT)]
    .filter((match) => includeTypes || !TYPE_ONLY.test(match[0]))
    .map((match) => resolve(file, match[1] ?? match[2]!))
    .filter((target): target is string => target !== null);
  return [...new Set(targets)];
}
const graph = new Map(files.map((file) => [file, importsOf(file, true)] as const));
const valueGraph = new Map(files.map((file) => [file, importsOf(file, false)] as const));

/** Every module a browser bundle can hold: what 'use client' files import, transitively, by value. */
function clientModules(): Set<string> {
  const reached = new Set<string>();
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const target of valueGraph.get(file) ?? []) visit(target);
  };
  for (const [file, text] of texts) if (/^['"]use client['"]/.test(text)) visit(file);
  return reached;
}

function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') found.push([...stack.slice(stack.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

describe('the import graph', () => {
  it('reads the imports of every source file', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(graph.get(path.join('server', 'services.ts'))).toContain(path.join('server', 'app-services.ts'));
  });

  it('has no import cycles (type imports included)', () => {
    expect(cycles()).toEqual([]);
  });

  it('keeps lib/ free of server code', () => {
    const offending = files.filter(
      (file) => file.startsWith('lib') && graph.get(file)!.some((target) => target.startsWith('server')),
    );
    expect(offending).toEqual([]);
  });

  // What the `server-only` package guards in Next's build, checked here for every module at once: no
  // server code (database, secrets, the data source) can reach a browser bundle; types may.
  it('keeps server code out of the browser: client components reach server/ through types only', () => {
    const reached = [...clientModules()];
    expect(reached.length).toBeGreaterThan(10);
    expect(reached.filter((file) => file.startsWith('server'))).toEqual([]);
  });

  it('lets only the wiring import services.ts (use cases are handed AppServices)', () => {
    const wiring = [
      /^app\//,
      /^server\/cli\//,
      /^server\/trpc\//,
      /^server\/export\/download-route\.ts$/,
      /^server\/auth\/current-user\.ts$/,
    ];
    const importers = files.filter((file) => graph.get(file)!.includes(path.join('server', 'services.ts')));
    expect(importers.filter((file) => !wiring.some((pattern) => pattern.test(file.split(path.sep).join('/'))))).toEqual(
      [],
    );
  });
});
