/**
 * `anonymize --output -` feeds `| mongorestore`: bytes written to stdout
 * cannot be taken back, so a run the coverage check refuses must write
 * nothing there, however much output came before the offending document.
 */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter, writeEvents } from '../../../runtime/archive/index.js';
import type { ArchiveEvent } from '../../../runtime/archive/types.js';
import { anonymizeFile } from '../../../runtime/io/anonymize-file.js';
import { UserError } from '../../../runtime/errors.js';
import { TEST_KEY, eof, fromArray, prelude, rules, segment } from './helpers.js';

const RULES = `
version: 2
rules:
  pmInvestigator:
    fields:
      Email: hash_email
    default: { transform: keep_subtree, reason: "UI preferences" }
  pmStudy:
    default: { transform: keep_subtree, reason: "research content" }
`;

async function archiveBytes(events: ArchiveEvent[]): Promise<Buffer> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const writer = new ArchiveWriter(sink);
  await writeEvents(fromArray(events), writer);
  await writer.end();
  return Buffer.concat(chunks);
}

function bigInput(offending: boolean): ArchiveEvent[] {
  const filler = 'lorem ipsum dolor sit amet '.repeat(40);
  const studies = Array.from({ length: 3000 }, (_, i) => ({ _id: i, Title: `Study ${i}`, Text: filler }));
  const last = offending ? { _id: 99999, Email: 'x@example.org', Preferences: { Email: 'jane.runout@uni.ac.uk' } } : { _id: 99999, Email: 'x@example.org' };
  return [
    prelude('pmStudy', 'pmInvestigator'),
    segment('pmStudy', studies.slice(0, 1500)),
    segment('pmStudy', studies.slice(1500)),
    eof('pmStudy'),
    segment('pmInvestigator', [{ _id: 1, Email: 'y@example.org' }, last]),
    eof('pmInvestigator'),
  ];
}

async function run(events: ArchiveEvent[]): Promise<{ stdout: Buffer; error: unknown }> {
  const input = await archiveBytes(events);
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  let error: unknown;
  try {
    await anonymizeFile({ input: '-', output: '-', stdin: Readable.from([input]), stdout, gzip: false, rules: rules(RULES), key: TEST_KEY, applySizeLimits: false });
  } catch (e) {
    error = e;
  }
  return { stdout: Buffer.concat(chunks), error };
}

describe('anonymize --output -', () => {
  it('writes nothing to stdout when the check refuses, even after megabytes of good output', async () => {
    const { stdout, error } = await run(bigInput(true));
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(5);
    expect(stdout.length).toBe(0);
    expect(stdout.includes('jane.runout')).toBe(false);
  });

  it('streams the whole output once the check has passed', async () => {
    const { stdout, error } = await run(bigInput(false));
    expect(error).toBeUndefined();
    expect(stdout.length).toBeGreaterThan(2_000_000);
  });
});
