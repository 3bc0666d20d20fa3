import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

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

/** Resolves when the stream can take more, rejects when it fails or closes first. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(new Error('The export file was closed while it was being written.'));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
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
      // A write error (ENOSPC, EIO) arrives as an 'error' event, possibly while nothing awaits:
      // remember it and raise it on the next call instead of crashing or waiting for a drain
      // that never comes.
      let failure: Error | null = null;
      out.on('error', (error) => {
        failure ??= error;
      });
      let ended = false;
      const end = async () => {
        if (!ended) {
          ended = true;
          out.end();
        }
        await finished(out);
      };
      return {
        async write(chunk) {
          if (failure) throw failure;
          if (!out.write(chunk)) await drained(out);
          if (failure) throw failure;
        },
        async commit() {
          await end();
          await rename(partial, final);
        },
        async discard() {
          out.destroy();
          // Ignored: the file is being thrown away; its error would change nothing.
          await finished(out).catch(() => undefined);
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
