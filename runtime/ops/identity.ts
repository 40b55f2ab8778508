/**
 * "Who" for audit lines: the most specific identity the environment
 * states, never guessed and never fetched over the network (the GCE
 * metadata server is not asked). Inputs are injectable so each case can be
 * tested without the environment it describes.
 */
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';

export type IdentitySource = 'env' | 'github' | 'kubernetes' | 'local';

export interface Identity {
  identity: string;
  source: IdentitySource;
  /** Where exactly, when known: the pod, or the workflow run. */
  detail?: string;
}

export interface IdentityInputs {
  env: NodeJS.ProcessEnv;
  /** null when the file cannot be read. */
  readFile: (path: string) => string | null;
  hostname: () => string;
  /** null when the process's uid has no user name (common in containers). */
  username: () => string | null;
}

export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function resolveIdentity(overrides: Partial<IdentityInputs> = {}): Identity {
  const inputs: IdentityInputs = { ...systemInputs(), ...overrides };
  const { env } = inputs;

  const actor = env.SYRF_ACTOR?.trim();
  if (actor) return { identity: actor, source: 'env' };

  const githubActor = env.GITHUB_ACTOR?.trim();
  if (githubActor) {
    const run = env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
    return { identity: `github:${githubActor}`, source: 'github', ...(run ? { detail: run } : {}) };
  }

  if (env.KUBERNETES_SERVICE_HOST) {
    const namespace = inputs.readFile(SERVICE_ACCOUNT_NAMESPACE_FILE)?.trim() || env.POD_NAMESPACE?.trim() || 'unknown-namespace';
    const pod = inputs.hostname();
    const ksa = env.SYRF_KSA?.trim();
    return ksa
      ? { identity: `system:serviceaccount:${namespace}:${ksa}`, source: 'kubernetes', detail: `pod ${pod}` }
      : { identity: `k8s:${namespace}/pod/${pod}`, source: 'kubernetes' };
  }

  const user = inputs.username() ?? env.USER ?? env.LOGNAME ?? `uid-${process.getuid?.() ?? 'unknown'}`;
  return { identity: `${user}@${inputs.hostname()}`, source: 'local' };
}

function systemInputs(): IdentityInputs {
  return {
    env: process.env,
    readFile: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return null;
      }
    },
    hostname,
    username: () => {
      try {
        return userInfo().username || null;
      } catch {
        return null;
      }
    },
  };
}
