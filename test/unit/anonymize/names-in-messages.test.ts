import { describe, expect, it } from 'vitest';
import { buildCollectionMetadata } from '../../../runtime/archive/metadata.js';
import type { ArchiveEvent } from '../../../runtime/archive/types.js';
import { anonymizeArchive } from '../../../runtime/anonymize/filter.js';
import { UserError } from '../../../runtime/errors.js';
import type { Logger } from '../../../runtime/ops/log.js';
import { TEST_KEY, collect, eof, fromArray, namespace, prelude, rules, segment } from './helpers.js';

const EMAIL_COLLECTION = 'alice.smith@uni.ac.uk';
const PLAIN_PERSONAL = 'zqjanedoe_notes';

function recording(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (msg: string) => lines.push(msg);
  return { lines, debug: add, info: add, warn: add, error: add, progress: add };
}

async function run(events: ArchiveEvent[], yaml: string) {
  const logger = recording();
  try {
    const out = await collect(anonymizeArchive(fromArray(events), { rules: rules(yaml), key: TEST_KEY, logger, check: false }));
    return { out, error: null as unknown, logger };
  } catch (error) {
    return { out: [], error, logger };
  }
}

const withUnnamed = (): ArchiveEvent[] => [
  prelude('pmProject', EMAIL_COLLECTION, PLAIN_PERSONAL),
  segment('pmProject', [{ _id: 1 }]),
  eof('pmProject'),
  segment(EMAIL_COLLECTION, [{ _id: 2 }]),
  eof(EMAIL_COLLECTION),
  segment(PLAIN_PERSONAL, [{ _id: 3 }]),
  eof(PLAIN_PERSONAL),
];

describe('messages never print a name the rules do not contain', () => {
  it('the refusal of unnamed collections numbers them instead of naming them', async () => {
    const { error } = await run(withUnnamed(), 'rules: { pmProject: {} }');
    expect(error).toBeInstanceOf(UserError);
    const text = `${(error as UserError).message} ${(error as UserError).hint}`;
    expect(text).not.toMatch(/alice|zqjanedoe/i);
    expect(text).toMatch(/2 collection\(s\).*<unnamed collection #1>.*<unnamed collection #2>/);
  });

  it('the warnings of unnamed_collections: drop likewise, and the dropped collections are not in the output', async () => {
    const { error, logger, out } = await run(withUnnamed(), 'unnamed_collections: drop\nrules: { pmProject: {} }');
    expect(error).toBeNull();
    expect(logger.lines.join('\n')).not.toMatch(/alice|zqjanedoe/i);
    expect(logger.lines.join('\n')).toMatch(/<unnamed collection #\d>/);
    expect(JSON.stringify(out.map((e) => (e.type === 'prelude' ? e.namespaces.map((n) => n.collection) : e.collection)))).not.toMatch(/alice|zqjanedoe/i);
  });

  it('a refused field names its collection and path by rule names only (email and plain keys)', async () => {
    for (const key of [EMAIL_COLLECTION, PLAIN_PERSONAL]) {
      const { error } = await run([prelude('pmProject'), segment('pmProject', [{ _id: 1, Name: 'x', [key]: { Inner: 1 } }]), eof('pmProject')], 'unnamed_fields: refuse\nrules: { pmProject: { fields: { _id: { transform: keep, reason: an id }, Name: { transform: keep, reason: titles } } } }');
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toMatch(/syrftest\.pmProject: field <unnamed key #\d>\.<unnamed key #\d> \(document #0\)/);
      expect((error as UserError).message).not.toMatch(/alice|zqjanedoe|Inner/i);
    }
  });
});

describe('views', () => {
  const view = (name: string) => ({ ...namespace(name, 'view'), metadata: buildCollectionMetadata({ collectionName: name, type: 'view', options: { viewOn: 'pmProject', pipeline: [] }, indexes: [] }) });

  it('are copied only when named under rules; a size limit alone does not name a view', async () => {
    const events = (): ArchiveEvent[] => [{ ...prelude('pmProject'), namespaces: [namespace('pmProject'), view('byOwner')] } as ArchiveEvent, eof('pmProject')];
    const limited = await run(events(), 'rules: { pmProject: {} }\nsize_limits: { byOwner: { max_documents: 5 } }');
    expect((limited.error as UserError).message).toMatch(/byOwner \(view\)/);
    const named = await run(events(), 'rules: { pmProject: {}, byOwner: {} }');
    expect(named.error).toBeNull();
    const first = named.out[0]!;
    expect(first.type === 'prelude' && first.namespaces.map((n) => n.collection)).toEqual(['pmProject', 'byOwner']);
  });
});
