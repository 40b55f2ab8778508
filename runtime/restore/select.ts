import { UserError } from '../errors.js';
import type { ArchiveEvent } from '../archive/types.js';

/**
 * The collections to copy: the requested ones, or all when none were asked
 * for. Fails with the list of what exists when a requested one is missing.
 */
export function chooseCollections(requested: string[] | undefined, available: string[], where: string): Set<string> {
  if (!requested?.length) return new Set(available);
  const unknown = requested.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    throw new UserError(`${where} has no collection ${unknown.map((n) => `"${n}"`).join(', ')}`, {
      hint: `available: ${available.join(', ')}`,
      exitCode: 2,
    });
  }
  return new Set(requested);
}

/** Keeps only the named collections, in the prelude and in the body. */
export async function* selectCollections(events: AsyncIterable<ArchiveEvent>, names: ReadonlySet<string>): AsyncGenerator<ArchiveEvent> {
  for await (const event of events) {
    if (event.type === 'prelude') yield { ...event, namespaces: event.namespaces.filter((ns) => names.has(ns.collection)) };
    else if (names.has(event.collection)) yield event;
  }
}
