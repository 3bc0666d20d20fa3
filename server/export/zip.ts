import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { EXPORT_FORMATS, type ExportFormat } from '@/lib/export-request';
import { sanitizeFilenameStem } from '@/lib/filename';
import type { DataSource } from '../query/data-source';
import type { EncoderOptions } from './encoders';
import { openEncodedFile } from './stream';

export interface ZipMember {
  title: string;
  sql: string;
  format: ExportFormat;
}

/** "orders.csv", then "orders (2).csv": unique, sanitised names in the archive. */
function uniqueMemberNames(members: Array<{ title: string; extension: string }>): string[] {
  const used = new Set<string>(['manifest.json']);
  return members.map(({ title, extension }) => {
    const stem = sanitizeFilenameStem(title, 'query');
    let name = `${stem}.${extension}`;
    for (let copy = 2; used.has(name.toLowerCase()); copy++) name = `${stem} (${copy}).${extension}`;
    used.add(name.toLowerCase());
    return name;
  });
}

/**
 * One ZIP of several query results, with manifest.json (query, format, rows, bytes, SHA-256 of each
 * file). Each result is encoded to a temporary file first, one cursor at a time, so the manifest is
 * complete before the archive streams out; memory stays flat either way.
 */
export async function* zipQueryResults(
  dataSource: DataSource,
  members: ZipMember[],
  options: EncoderOptions,
  signal: AbortSignal,
  onRows: (rows: number) => void,
): AsyncGenerator<Uint8Array> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'askport-zip-'));
  try {
    const names = uniqueMemberNames(
      members.map((member) => ({ title: member.title, extension: EXPORT_FORMATS[member.format].extension })),
    );
    const manifestFiles: Array<{
      file: string;
      title: string;
      query: string;
      format: ExportFormat;
      rows: number;
      bytes: number;
      sha256: string;
      empty: boolean;
      /** XLSX cells cut at Excel's 32,767 characters (CSV and JSON keep every value whole). */
      cutCells: number;
    }> = [];
    // Loaded on first use: the server does not carry jszip until someone asks for a ZIP.
    const { default: JSZip } = await import('jszip');
    const zip = new JSZip();
    for (const [index, member] of members.entries()) {
      const file = path.join(workDir, `${index}.part`);
      const out = createWriteStream(file);
      const hash = createHash('sha256');
      let rows = 0;
      let bytes = 0;
      const countRows = (count: number) => {
        rows += count;
        onRows(count);
      };
      const cuts = { cells: 0 };
      const encoded = await openEncodedFile(
        dataSource,
        member.sql,
        member.format,
        options,
        { query: member.sql, title: member.title, generatedAt: new Date() },
        countRows,
        cuts,
      );
      try {
        for await (const chunk of encoded.chunks) {
          if (signal.aborted) throw signal.reason ?? new Error('aborted');
          hash.update(chunk);
          bytes += chunk.byteLength;
          if (!out.write(chunk)) await once(out, 'drain');
        }
      } finally {
        await encoded.close();
        out.end();
        await once(out, 'close');
      }
      const name = names[index]!;
      manifestFiles.push({
        file: name,
        title: member.title,
        query: member.sql,
        format: member.format,
        rows,
        bytes,
        sha256: hash.digest('hex'),
        empty: rows === 0,
        cutCells: cuts.cells,
      });
      zip.file(name, createReadStream(file), { binary: true });
    }
    const formats = [...new Set(members.map((member) => member.format))];
    zip.file(
      'manifest.json',
      `${JSON.stringify({ generatedAt: new Date().toISOString(), format: formats.length === 1 ? formats[0] : 'each its own', files: manifestFiles }, null, 2)}\n`,
    );
    // jszip's stream is an old-style stream; wrap() gives it backpressure and async iteration.
    const archive = new Readable().wrap(
      zip.generateNodeStream({
        type: 'nodebuffer',
        streamFiles: true,
        compression: 'DEFLATE',
        compressionOptions: { level: 6 },
      }),
    );
    for await (const chunk of archive as AsyncIterable<Buffer>) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      yield chunk;
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
