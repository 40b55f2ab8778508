/**
 * Temporary files of the snapshot path after kills: a SIGKILLed snapshot's
 * part files are removed by the next run (never a live run's), and a
 * SIGTERMed one removes its own at once and marks the attempt failed, so a
 * retry with the same id goes ahead immediately.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killedByFault, runCli } from '../support/cli.js';
import { connectMongo, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

describe('snapshot temporaries after kills', () => {
  let client: MongoClient;
  const source = uniqueDbName('tmpsrc_');
  const work = tempDir();

  beforeAll(async () => {
    client = await connectMongo();
    await client.db(source).collection('a').insertMany(Array.from({ length: 300 }, (_, i) => ({ i, text: `row ${i} `.repeat(20) })));
    await client.db(source).collection('b').insertMany(Array.from({ length: 50 }, (_, i) => ({ i })));
  });
  afterAll(async () => {
    await client.db(source).dropDatabase();
    await client.close();
    work.remove();
  });

  const parts = async (tmp: string) => (await readdir(tmp)).filter((name) => name.startsWith('syrf-parts-')).sort();

  it('SIGKILL mid-upload leaves part files; the next run removes them and leaves a live run\'s alone', async () => {
    const tmp = join(work.path, 'tmp-kill');
    mkdirSync(tmp);
    // A live run's directory (this test process) and one of a process that has exited.
    const live = `syrf-parts-${process.pid}-Abc123`;
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const dead = `syrf-parts-${gone}-Def456`;
    for (const name of [live, dead]) {
      mkdirSync(join(tmp, name));
      writeFileSync(join(tmp, name, 'part-0.gz'), 'x');
    }
    const url = `file://${work.path}/store-kill`;
    const env = { TMPDIR: tmp, SYRF_FAULT: 'snapshot.upload.chunk:1' };
    const killed = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', url, '--id', '2026-10-01', '--parallel', '1'], { env });
    expect(killedByFault(killed), killed.stderr).toBe(true);
    const left = await parts(tmp);
    expect(left.filter((name) => name !== live && name !== dead)).toHaveLength(1);

    const next = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', url, '--id', '2026-10-01'], { env: { TMPDIR: tmp } });
    expect(next.code, next.stderr).toBe(0);
    expect(await parts(tmp)).toEqual([live]);
  });

  it('SIGTERM mid-upload removes its own part files, marks the attempt failed, and the retry goes ahead at once', async () => {
    const tmp = join(work.path, 'tmp-term');
    mkdirSync(tmp);
    const url = `file://${work.path}/store-term`;
    const stopped = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', url, '--id', '2026-10-02', '--parallel', '1'], {
      env: { TMPDIR: tmp, SYRF_FAULT: 'snapshot.upload.chunk:1:term' },
    });
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(stopped.stderr).toMatch(/SIGTERM received: snapshot 2026-10-02 stops/);
    expect(await parts(tmp)).toEqual([]);
    expect((await readdir(join(work.path, 'store-term', 'prod', '2026-10-02'))).sort()).toContain('FAILED.json');

    const retry = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', url, '--id', '2026-10-02'], { env: { TMPDIR: tmp } });
    expect(retry.code, retry.stderr).toBe(0);
    expect((await readdir(join(work.path, 'store-term', 'prod', '2026-10-02'))).sort()).toEqual(['dump.gz', 'manifest.json']);
    expect(await parts(tmp)).toEqual([]);
  });
});
