/**
 * Red team 2, F11: under mask (the default for fields no rule names) a
 * 16-byte UUID or an ObjectId may hold any bytes (an email fits in 16), so
 * it gets a keyed pseudonym of the same type and length; only `keep`
 * publishes ids as they are. Equal ids give equal pseudonyms (joins survive
 * where both sides are masked).
 */
import { Binary, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { anonymizeBytes, createAnonymizer } from '../../../runtime/anonymize/engine.js';
import { OTHER_KEY, TEST_KEY, bson, decode, rules } from './helpers.js';

const EMAIL16 = Buffer.from('jzqh01@uni.ac.uk');
const EMAIL12 = Buffer.from('jzqh02@ab.uk');
const YAML = 'rules:\n  c:\n    fields:\n      Kept: { transform: keep, reason: referential id of the owner }\n      KeptOid: { transform: keep, reason: referential id of the owner }\n';

function run(doc: Record<string, unknown>, key = TEST_KEY): Buffer {
  return anonymizeBytes(bson(doc), createAnonymizer(rules(YAML), key).forCollection('c')!);
}

describe('F11: mask gives UUIDs and ObjectIds keyed pseudonyms', () => {
  const doc = {
    _id: new Binary(EMAIL16, 4),
    Affiliation: new Binary(EMAIL16, 4),
    Legacy: new Binary(Buffer.from('+4477009003416x '), 3),
    BackupContact: new ObjectId(EMAIL12),
    Nested: { Ref: new Binary(EMAIL16, 3) },
    Kept: new Binary(Buffer.alloc(16, 7), 3),
    KeptOid: new ObjectId(Buffer.alloc(12, 9)),
  };

  it('publishes none of their bytes, keeps type and length, and is stable per key', () => {
    const out = run(doc);
    for (const marker of [EMAIL16, EMAIL12, Buffer.from('+4477009003416x ')]) expect(out.includes(marker), marker.toString()).toBe(false);
    const decoded = decode(out);
    for (const field of ['_id', 'Affiliation', 'Legacy'] as const) {
      expect(decoded[field]).toBeInstanceOf(Binary);
      expect(decoded[field].sub_type).toBe((doc[field] as Binary).sub_type);
      expect(decoded[field].buffer.length).toBe(16);
    }
    expect(decoded.BackupContact).toBeInstanceOf(ObjectId);
    // The same UUID gives the same pseudonym wherever it is masked (the _id and the reference to it).
    expect(decoded._id.buffer).toEqual(decoded.Affiliation.buffer);
    expect(decode(run(doc))).toEqual(decoded);
    expect(decode(run(doc, OTHER_KEY))._id.buffer).not.toEqual(decoded._id.buffer);
  });

  it('keeps ids a rule keeps, byte for byte', () => {
    const decoded = decode(run(doc));
    expect(decoded.Kept).toEqual(doc.Kept);
    expect(decoded.KeptOid).toEqual(doc.KeptOid);
  });
});
