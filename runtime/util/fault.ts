/**
 * Deterministic fault injection for kill tests. `SYRF_FAULT=<point>:<n>[:<action>]`
 * makes the process stop at the n-th time it passes `<point>`: `kill`
 * (default) SIGKILLs itself, `term` sends itself SIGTERM (the graceful
 * path Kubernetes takes first), `throw` raises an error there, `pause`
 * creates `<SYRF_FAULT_DIR>/<point>.paused` and blocks until the test
 * creates `<point>.resume` beside it (for races decided step by step). Several
 * faults may be given, comma-separated. Unset, `faultPoint` is an empty
 * function, so production pays one call per point and nothing else.
 */

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type FaultAction = 'kill' | 'term' | 'throw' | 'pause';

export interface FaultSpec {
  point: string;
  hit: number;
  action: FaultAction;
}

export const FAULT_ENV_VAR = 'SYRF_FAULT';
export const FAULT_DIR_ENV_VAR = 'SYRF_FAULT_DIR';

export function parseFaultSpecs(text: string | undefined): FaultSpec[] {
  if (!text?.trim()) return [];
  return text.split(',').map((part) => {
    const [point = '', hit = '1', action = 'kill'] = part.trim().split(':');
    const n = Number(hit);
    if (!/^[a-z0-9.-]+$/.test(point) || !Number.isInteger(n) || n < 1 || !['kill', 'term', 'throw', 'pause'].includes(action)) {
      throw new Error(`${FAULT_ENV_VAR}="${text}" is not <point>:<n>[:kill|term|throw|pause]`);
    }
    return { point, hit: n, action: action as FaultAction };
  });
}

function armed(specs: FaultSpec[]): (point: string) => void {
  const hits = new Map<string, number>();
  return (point) => {
    const count = (hits.get(point) ?? 0) + 1;
    hits.set(point, count);
    const spec = specs.find((s) => s.point === point && s.hit === count);
    if (!spec) return;
    if (spec.action === 'throw') throw new Error(`injected fault at ${point} #${count}`);
    if (spec.action === 'pause') return pauseAt(point);
    process.stderr.write(`injected fault: ${spec.action} at ${point} #${count}\n`);
    process.kill(process.pid, spec.action === 'kill' ? 'SIGKILL' : 'SIGTERM');
  };
}

/** Blocks the whole process (deliberately: nothing else may run) until the test says go on. */
function pauseAt(point: string): void {
  const dir = process.env[FAULT_DIR_ENV_VAR];
  if (!dir) throw new Error(`${FAULT_ENV_VAR} pause at ${point} needs ${FAULT_DIR_ENV_VAR}`);
  writeFileSync(join(dir, `${point}.paused`), String(process.pid));
  const resume = join(dir, `${point}.resume`);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; !existsSync(resume); waited += 20) {
    if (waited > 120_000) throw new Error(`paused at ${point} for 2 minutes without ${resume}`);
    Atomics.wait(sleeper, 0, 0, 20);
  }
}

const specs = parseFaultSpecs(process.env[FAULT_ENV_VAR]);

/** A named point of the pipeline where a test may stop the process. */
export const faultPoint: (point: string) => void = specs.length === 0 ? () => undefined : armed(specs);
