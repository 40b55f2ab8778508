/**
 * Deterministic fault injection for kill tests. `SYRF_FAULT=<point>:<n>[:<action>]`
 * makes the process stop at the n-th time it passes `<point>`: `kill`
 * (default) SIGKILLs itself, `term` sends itself SIGTERM (the graceful
 * path Kubernetes takes first), `throw` raises an error there. Several
 * faults may be given, comma-separated. Unset, `faultPoint` is an empty
 * function, so production pays one call per point and nothing else.
 */

export type FaultAction = 'kill' | 'term' | 'throw';

export interface FaultSpec {
  point: string;
  hit: number;
  action: FaultAction;
}

export const FAULT_ENV_VAR = 'SYRF_FAULT';

export function parseFaultSpecs(text: string | undefined): FaultSpec[] {
  if (!text?.trim()) return [];
  return text.split(',').map((part) => {
    const [point = '', hit = '1', action = 'kill'] = part.trim().split(':');
    const n = Number(hit);
    if (!/^[a-z0-9.-]+$/.test(point) || !Number.isInteger(n) || n < 1 || !['kill', 'term', 'throw'].includes(action)) {
      throw new Error(`${FAULT_ENV_VAR}="${text}" is not <point>:<n>[:kill|term|throw]`);
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
    process.stderr.write(`injected fault: ${spec.action} at ${point} #${count}\n`);
    process.kill(process.pid, spec.action === 'kill' ? 'SIGKILL' : 'SIGTERM');
  };
}

const specs = parseFaultSpecs(process.env[FAULT_ENV_VAR]);

/** A named point of the pipeline where a test may stop the process. */
export const faultPoint: (point: string) => void = specs.length === 0 ? () => undefined : armed(specs);
