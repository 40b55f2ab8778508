import { InvalidArgumentError } from 'commander';

/** commander parser for non-negative whole numbers. */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number >= 0, got "${value}"`);
  return n;
}

export function parsePositive(value: string): number {
  const n = parseCount(value);
  if (n === 0) throw new InvalidArgumentError(`expected a whole number >= 1, got "${value}"`);
  return n;
}

/** Options every command inherits from the root program. */
export interface GlobalOptions {
  logFormat?: string;
  quiet?: boolean;
  verbose?: boolean;
}
