/**
 * SIGTERM (what Kubernetes sends first) and SIGINT stop a restore cleanly:
 * the load stops at the next batch, temporaries are dropped (or, once the
 * swap journal is written, the swap is finished), the lock is released and
 * the audit line and metrics are written by the normal failure path.
 */
import { ExitCode, UserError } from '../errors.js';
import type { Logger } from '../ops/log.js';

export interface StopWatch {
  readonly signal: AbortSignal;
  /** Throws the stop error once a signal arrived. */
  throwIfStopped(): void;
  /** After a run that finished anyway (a signal during the swap): still exit non-zero, saying what the target holds now. */
  throwIfStoppedAfterSwap(outcome: string): void;
  dispose(): void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export function watchStopSignals(logger: Logger, what: string): StopWatch {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    logger.warn(`${name} received: stopping ${what} (the target keeps a consistent state; the lock is released)`);
    controller.abort(
      new UserError(`${what} stopped by ${name}`, {
        hint: 're-run it; a restore stopped before its swap left the target unchanged, one stopped during its swap finished it',
        exitCode: ExitCode.failure,
      }),
    );
  };
  for (const name of SIGNALS) process.on(name, onSignal);
  return {
    signal: controller.signal,
    throwIfStopped() {
      if (controller.signal.aborted) throw controller.signal.reason;
    },
    throwIfStoppedAfterSwap(outcome) {
      if (!controller.signal.aborted) return;
      const reason = controller.signal.reason as UserError;
      throw new UserError(`${reason.message} during its swap; the swap was completed: ${outcome}`, {
        hint: 'nothing to repair; re-run it if the job expects a clean exit',
        exitCode: ExitCode.failure,
      });
    },
    dispose() {
      for (const name of SIGNALS) process.off(name, onSignal);
    },
  };
}
