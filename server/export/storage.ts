import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where finished export files live. Local disk on the embedded default; the interface is what an
 * S3-compatible store would implement for several web instances.
 */
export interface ExportStorage {
  /** A new file: written in pieces, visible only once committed; discard() removes what was written. */
  create(key: string): Promise<StoredFileWriter>;
  /** The file and its size, or null when it is not there. */
  open(key: string): Promise<{ stream: Readable; bytes: number } | null>;
  remove(key: string): Promise<void>;
}

export interface StoredFileWriter {
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/** Keys are file names chosen by the server (export id + extension); anything else is refused. */
function safeName(key: string): string {
  if (!/^[\w-]+\.[a-z]+$/.test(key)) throw new Error(`Invalid storage key: ${key}`);
  return key;
}

export function createLocalDiskStorage(directory: string): ExportStorage {
  const pathOf = (key: string) => path.join(directory, safeName(key));
  return {
    async create(key) {
      await mkdir(directory, { recursive: true });
      const final = pathOf(key);
      // Written under a temporary name, renamed on commit: a partial file is never served.
      const partial = `${final}.part`;
      const out: WriteStream = createWriteStream(partial);
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        out.end();
        await once(out, 'close');
      };
      return {
        async write(chunk) {
          if (!out.write(chunk)) await once(out, 'drain');
        },
        async commit() {
          await close();
          await rename(partial, final);
        },
        async discard() {
          await close().catch(() => undefined);
          await rm(partial, { force: true });
        },
      };
    },
    async open(key) {
      try {
        const info = await stat(pathOf(key));
        return { stream: createReadStream(pathOf(key)), bytes: info.size };
      } catch {
        return null;
      }
    },
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
