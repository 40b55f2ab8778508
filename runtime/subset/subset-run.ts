/**
 * Referential subsetting over one archive pass. Collections under a size limit
 * (or following one that is) are spooled to a private temp dir until they and
 * their parent have ended, then replayed with only the documents kept; the
 * temp files are deleted in every case (call `close` in a finally).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveEvent, NamespaceMetadata } from '../archive/types.js';
import type { Rules } from '../anonymize/rules.js';
import type { Logger } from '../ops/log.js';
import { emitSubset } from './emit.js';
import { planSubsets, type SubsetState } from './plan.js';
import { Spool } from './spool.js';

export type { SubsetState } from './plan.js';

export class SubsetRun {
  private readonly states: SubsetState[] = [];
  private spoolDir: string | null = null;

  constructor(
    private readonly rules: Rules,
    private readonly logger: Logger,
    /** Where spool files go; default os.tmpdir(). */
    private readonly tempDir?: string,
  ) {}

  /** Plans the subsets of the collections an archive's prelude keeps; returns the collections that are subset. */
  plan(namespaces: readonly NamespaceMetadata[]): SubsetState[] {
    const planned = planSubsets(namespaces, this.rules, this.logger);
    this.states.push(...planned);
    return planned;
  }

  /** Parks documents (already anonymized when anonymizing) until the collection can be resolved. */
  async append(state: SubsetState, documents: readonly Buffer[]): Promise<void> {
    await (await this.spoolFor(state)).append(documents);
  }

  /** The collection's input has ended: emits every subset that can now be resolved. */
  async *ended(state: SubsetState): AsyncGenerator<ArchiveEvent> {
    state.inputEnded = true;
    yield* this.resolveReady(false);
  }

  /** The archive has ended: emits every subset still waiting. */
  async *finish(): AsyncGenerator<ArchiveEvent> {
    yield* this.resolveReady(true);
  }

  async close(): Promise<void> {
    for (const state of this.states) await state.spool?.close().catch(() => undefined);
    if (this.spoolDir) await rm(this.spoolDir, { recursive: true, force: true });
  }

  private async spoolFor(state: SubsetState): Promise<Spool> {
    if (!state.spool) {
      this.spoolDir ??= await mkdtemp(join(this.tempDir ?? tmpdir(), 'syrf-anonymize-'));
      state.spool = new Spool(join(this.spoolDir, `${this.states.indexOf(state)}.bson`));
    }
    return state.spool;
  }

  private async *resolveReady(endOfInput: boolean): AsyncGenerator<ArchiveEvent> {
    for (let progress = true; progress; ) {
      progress = false;
      for (const state of this.states) {
        if (state.resolved) continue;
        const parentDone = state.parent === null || state.parent.resolved;
        if (!(parentDone && (state.inputEnded || endOfInput))) continue;
        yield* emitSubset(state, this.logger);
        progress = true;
      }
    }
  }
}
