/**
 * Runs the real program under Pulumi's mocks and records every resource it
 * registers with its inputs: what `pulumi up` would send to the providers.
 * Shared by the mock tests and the real API server checks.
 */
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../../../infra/config.js';
import { RULES_YAML } from './fixtures.js';

export interface Declared {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, any>;
  /** Inputs as handed over, secrets still wrapped. */
  rawInputs: Record<string, any>;
}

const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

export function isSecretWrapped(value: unknown): value is { value: unknown } {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Pulumi hands secret inputs to mocks wrapped in a signature object; tests compare plain values. */
export function unwrapSecrets(value: unknown): any {
  if (isSecretWrapped(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

export async function declare(config: StackConfig): Promise<{ resources: Declared[]; outputs: Record<string, unknown> }> {
  const resources: Declared[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === 'gcp:serviceaccount/account:Account') {
          state['email'] = `${String(args.inputs['accountId'])}@${String(args.inputs['project'])}.iam.gserviceaccount.com`;
          state['name'] = `projects/${String(args.inputs['project'])}/serviceAccounts/${String(state['email'])}`;
        }
        if (args.type === 'random:index/randomPassword:RandomPassword') state['result'] = 'Mocked0Password0For0Tests0Only000000000';
        resources.push({ type: args.type, name: args.name, urn: `urn:pulumi:${config.stack}::syrf-db-tools::${args.type}::${args.name}`, inputs: unwrapSecrets(args.inputs), rawInputs: args.inputs });
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    'syrf-db-tools',
    config.stack,
    false,
  );
  // Import after setMocks so the program's module-level Pulumi state sees the mock monitor.
  const { defineStack } = await import('../../../infra/program.js');
  const declared = defineStack(config, RULES_YAML);
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(declared)) {
    outputs[key] = await new Promise((resolve) => pulumi.output(value).apply(resolve));
  }
  // Children registered after the outputs resolved (secrets, custom resources) still need a few turns.
  let seen = -1;
  while (seen !== resources.length) {
    seen = resources.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { resources, outputs };
}

