import { text } from 'node:stream/consumers';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalDiskStorage } from '@/server/export/storage';

const directories: string[] = [];
function freshDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'askport-storage-'));
  directories.push(directory);
  return directory;
}
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('local disk export storage', () => {
  it('shows a file only once it is committed', async () => {
    const storage = createLocalDiskStorage(freshDirectory());
    const writer = await storage.create('abc.csv');
    await writer.write(Buffer.from('a,b\r\n'));
    expect(await storage.open('abc.csv')).toBeNull();
    await writer.commit();
    const opened = await storage.open('abc.csv');
    expect(opened?.bytes).toBe(5);
    expect(await text(opened!.stream)).toBe('a,b\r\n');
  });

  it('leaves nothing behind when discarded', async () => {
    const directory = freshDirectory();
    const storage = createLocalDiskStorage(directory);
    const writer = await storage.create('abc.json');
    await writer.write(Buffer.alloc(100_000, 1));
    await writer.discard();
    expect(readdirSync(directory)).toEqual([]);
  });

  // /dev/full answers every write with ENOSPC: the writer must raise it, not hang or crash.
  it.skipIf(!existsSync('/dev/full'))(
    'raises ENOSPC from a full disk on write or commit instead of hanging',
    async () => {
      const directory = freshDirectory();
      symlinkSync('/dev/full', path.join(directory, 'full.csv.part'));
      const storage = createLocalDiskStorage(directory);
      const writer = await storage.create('full.csv');
      const writeAll = async () => {
        for (let index = 0; index < 200; index += 1) await writer.write(Buffer.alloc(64 * 1024, 65));
        await writer.commit();
      };
      await expect(writeAll()).rejects.toMatchObject({ code: 'ENOSPC' });
      await writer.discard();
      expect(readdirSync(directory)).toEqual([]);
      expect(await storage.open('full.csv')).toBeNull();
    },
  );

  it('refuses keys that could leave the directory', async () => {
    const storage = createLocalDiskStorage(freshDirectory());
    for (const key of ['../etc/passwd', '/etc/passwd', 'a/b.csv', '..', 'x.csv\0', '.csv']) {
      await expect(storage.create(key)).rejects.toThrow('Invalid storage key');
      await expect(storage.open(key)).resolves.toBeNull();
    }
  });
});
