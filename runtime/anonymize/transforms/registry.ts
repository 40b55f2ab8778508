/**
 * Every transform the rules file may name. Adding one: write
 * `transforms/<name>.ts` with `defineTransform(...)` and add it here.
 */
import { constant } from './constant.js';
import { fakeName } from './fake-name.js';
import { hash } from './hash.js';
import { hashEmail } from './hash-email.js';
import { keep } from './keep.js';
import { keepSubtree } from './keep-subtree.js';
import { mask } from './mask.js';
import { nullify } from './null.js';
import { redact } from './redact.js';
import { remove } from './remove.js';
import { sequential } from './sequential.js';
import { sequentialSuffix } from './sequential-suffix.js';
import type { TransformDefinition } from './types.js';

const ALL: readonly TransformDefinition[] = [
  hashEmail,
  hash,
  sequential,
  sequentialSuffix,
  fakeName,
  redact,
  nullify,
  constant,
  keep,
  keepSubtree,
  mask,
  remove,
] as unknown as readonly TransformDefinition[];

export const transforms: ReadonlyMap<string, TransformDefinition> = new Map(ALL.map((t) => [t.name, t]));

export function transformNames(): string[] {
  return [...transforms.keys()];
}

export function findTransform(name: string): TransformDefinition | undefined {
  return transforms.get(name);
}
