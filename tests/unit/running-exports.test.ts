import { describe, expect, it } from 'vitest';
import { RunningExports } from '@/server/export/running';

describe('the one registry of running exports', () => {
  it("aborts one chat's streams and jobs of one user, and nothing of anyone else", () => {
    const running = new RunningExports();
    const stream = running.register('a', { userId: 'u1', chatId: 'c1', delivery: 'stream' });
    const job = running.register('b', { userId: 'u1', chatId: 'c1', delivery: 'file' });
    const otherChat = running.register('c', { userId: 'u1', chatId: 'c2', delivery: 'file' });
    const otherUser = running.register('d', { userId: 'u2', chatId: 'c1', delivery: 'stream' });
    expect(running.abortChat('u1', 'c1').sort()).toEqual(['a', 'b']);
    expect([stream.signal.aborted, job.signal.aborted]).toEqual([true, true]);
    expect([otherChat.signal.aborted, otherUser.signal.aborted]).toEqual([false, false]);
  });

  it('counts by delivery, forgets what unregistered, and says when an id runs elsewhere', () => {
    const running = new RunningExports();
    const job = running.register('a', { userId: 'u', chatId: null, delivery: 'file' });
    running.register('b', { userId: 'u', chatId: null, delivery: 'stream' });
    expect([running.count('file'), running.count('stream')]).toEqual([1, 1]);
    job.unregister();
    expect(running.count('file')).toBe(0);
    expect(running.abort('a')).toBe(false);
    expect(running.abort('b')).toBe(true);
  });

  it('keeps the abort of an export registered again, so a cancel sent before its start still holds', () => {
    const running = new RunningExports();
    const early = running.register('a', { userId: 'u', chatId: null, delivery: 'file' });
    running.abort('a');
    const later = running.register('a', { userId: 'u', chatId: null, delivery: 'file' });
    expect(later.signal.aborted).toBe(true);
    early.unregister();
    expect(running.has('a')).toBe(true);
  });

  it('aborts every job of this process at shutdown, and no stream', () => {
    const running = new RunningExports();
    const job = running.register('a', { userId: 'u', chatId: null, delivery: 'file' });
    const stream = running.register('b', { userId: 'u', chatId: null, delivery: 'stream' });
    running.abortAll('file');
    expect([job.signal.aborted, stream.signal.aborted]).toEqual([true, false]);
  });
});
