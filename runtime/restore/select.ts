import { UserError } from '../errors.js';
import type { ArchiveEvent } from '../archive/types.js';

/** Fails with the list of what exists when a requested collection is not in the snapshot. */
export function assertCollectionsExist(requested: string[], available: string[], where: string): void {
  const unknown = requested.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    throw new UserError(`${where} has no collection ${unknown.map((n) => `"${n}"`).join(', ')}`, {
      hint: `available: ${available.join(', ')}`,
      exitCode: 2,
    });
  }
}

/** Keeps only the named collections, in the prelude and in the body. */
export async function* selectCollections(events: AsyncIterable<ArchiveEvent>, names: ReadonlySet<string>): AsyncGenerator<ArchiveEvent> {
  for await (const event of events) {
    if (event.type === 'prelude') yield { ...event, namespaces: event.namespaces.filter((ns) => names.has(ns.collection)) };
    else if (names.has(event.collection)) yield event;
  }
}
