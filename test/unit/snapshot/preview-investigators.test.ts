/**
 * The shipped rules bound a preview's investigators by the kept projects:
 * a preview of 10× the data keeps no more investigators than the kept
 * projects' members, and every investigator a kept project or study names
 * is kept (no dangling references).
 */
import { join } from 'node:path';
import { BSON, Binary, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { subsetArchive } from '../../../runtime/anonymize/filter.js';
import { loadRules, type Rules } from '../../../runtime/anonymize/rules.js';
import { buildCollectionMetadata } from '../../../runtime/archive/metadata.js';
import type { ArchiveEvent } from '../../../runtime/archive/types.js';
import { csuuid, seededRandom as prng } from '../../support/random.js';

const DB = 'syrf_prod';
const MEMBERS_PER_PROJECT = 4;

/** SyRF's reference shape without the bulk: investigators, projects with members, studies annotated by members. */
function references(studies: number): Record<string, Document[]> {
  const random = prng(7);
  const investigators = Array.from({ length: Math.ceil(studies / 5) }, () => ({ _id: csuuid(random), Email: 'x' }));
  const projects = Array.from({ length: Math.ceil(studies / 20) }, (_, i) => {
    const members = Array.from({ length: MEMBERS_PER_PROJECT }, (_, m) => investigators[(i * 7 + m * 13) % investigators.length]!._id);
    return { _id: csuuid(random), OwnerId: members[0], Members: members.map((id) => ({ InvestigatorId: id })) };
  });
  const study = Array.from({ length: studies }, (_, i) => {
    const project = projects[i % projects.length]!;
    return { _id: csuuid(random), ProjectId: project._id, Annotations: project.Members.slice(0, 2).map((m) => ({ AnnotatorId: m.InvestigatorId })) };
  });
  return { pmInvestigator: investigators, pmProject: projects, pmStudy: study };
}

async function* events(collections: Record<string, Document[]>): AsyncGenerator<ArchiveEvent> {
  const names = Object.keys(collections);
  yield {
    type: 'prelude',
    header: { concurrentCollections: 1, version: '0.1', serverVersion: '7.0.0', toolVersion: 'test' },
    namespaces: names.map((name) => ({ db: DB, collection: name, metadata: buildCollectionMetadata({ collectionName: name, type: 'collection', indexes: [] }), size: 0, type: 'collection' })),
  };
  for (const name of names) {
    const documents = collections[name]!.map((d) => Buffer.from(BSON.serialize(d)));
    for (let i = 0; i < documents.length; i += 1000) yield { type: 'segment', db: DB, collection: name, documents: documents.slice(i, i + 1000) };
    yield { type: 'eof', db: DB, collection: name, crc: 0n };
  }
}

async function preview(rules: Rules, studies: number): Promise<Record<string, Document[]>> {
  const out: Record<string, Document[]> = {};
  for await (const event of subsetArchive(events(references(studies)), { rules })) {
    if (event.type === 'segment') (out[event.collection] ??= []).push(...event.documents.map((d) => BSON.deserialize(d)));
  }
  return out;
}

const hex = (id: unknown) => Buffer.from((id as Binary).buffer).toString('hex');

describe('preview edition: investigators follow the kept projects', () => {
  it('keeps the same bound at 1× and 10× the data, and every referenced investigator', async () => {
    const rules = await loadRules(join(import.meta.dirname, '../../../rules/anonymization-rules.yaml'));
    const projectLimit = rules.sizeLimits.get('pmProject')?.maxDocuments;
    expect(projectLimit).toBe(100);
    const counts: number[] = [];
    for (const studies of [4_000, 40_000]) {
      const kept = await preview(rules, studies);
      const investigators = new Set((kept.pmInvestigator ?? []).map((d) => hex(d._id)));
      expect(kept.pmProject).toHaveLength(projectLimit!);
      expect(investigators.size).toBeLessThanOrEqual(projectLimit! * MEMBERS_PER_PROJECT);
      // At both scales production has more users than that: the limit, not the data, is what bounds them.
      expect(references(studies).pmInvestigator!.length).toBeGreaterThan(projectLimit! * MEMBERS_PER_PROJECT);
      const named = [
        ...kept.pmProject!.flatMap((p) => [p.OwnerId, ...(p.Members as Document[]).map((m) => m.InvestigatorId)]),
        ...kept.pmStudy!.flatMap((s) => (s.Annotations as Document[]).map((a) => a.AnnotatorId)),
      ].map(hex);
      expect(named.filter((id) => !investigators.has(id))).toEqual([]);
      // Nothing kept that no kept project names.
      expect([...investigators].filter((id) => !named.includes(id))).toEqual([]);
      counts.push(investigators.size);
    }
    expect(counts[1]).toBeLessThanOrEqual(projectLimit! * MEMBERS_PER_PROJECT);
  });
});
