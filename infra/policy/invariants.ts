import {
  CLI_COMMANDS,
  DEFAULT_PREVIEW_NAMESPACE,
  PRODUCER_KSA,
  PREVIEW_STACK_PATTERN,
  PRODUCTION_SECRETS,
  PROD_DATABASE,
  previewDatabase,
  STAGING_DATABASE,
  TARGET_WRITING_COMMANDS,
} from '../names.js';

/**
 * The invariants the policy pack enforces, as pure functions over a
 * resource's plain properties. Each returns the list of violations (empty
 * when the resource is fine), so tests can call them directly and the
 * policies stay one line each.
 */

type Props = Record<string, unknown>;

function record(value: unknown): Props | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Props) : undefined;
}
function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `urn:pulumi:<stack>::<project>::<type>::<name>` → stack. */
export function stackOfUrn(urn: string): string {
  return urn.split('::')[0]?.split(':')[2] ?? '';
}

// ---------------------------------------------------------------- buckets

export function bucketViolations(props: Props): string[] {
  const problems: string[] = [];
  if (props['publicAccessPrevention'] !== 'enforced') {
    problems.push('bucket must set publicAccessPrevention: "enforced" (snapshots must never be publicly readable)');
  }
  if (props['uniformBucketLevelAccess'] !== true) {
    problems.push('bucket must set uniformBucketLevelAccess: true (no per-object ACLs that bypass IAM)');
  }
  return problems;
}

const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);

/** BucketIAMMember (member) and BucketIAMBinding (members). */
export function bucketIamViolations(props: Props): string[] {
  const members = [text(props['member']), ...list(props['members']).map(text)].filter((m): m is string => m !== undefined);
  return members.filter((m) => PUBLIC_MEMBERS.has(m)).map((m) => `bucket IAM grants ${text(props['role']) ?? 'a role'} to ${m}; snapshot data must never be public`);
}

export function serviceAccountKeyViolations(): string[] {
  return ['service account keys are forbidden: workloads authenticate through Workload Identity, and no key may be created or exported'];
}

// ---------------------------------------------------------------- workloads

/** The pod spec inside a Pod, Job, CronJob or pod-templated controller. */
export function podSpecOf(props: Props): Props | undefined {
  const kind = text(props['kind']);
  const spec = record(props['spec']);
  if (spec === undefined) return undefined;
  if (kind === 'Pod') return spec;
  if (kind === 'CronJob') return record(record(record(record(spec['jobTemplate'])?.['spec'])?.['template'])?.['spec']);
  return record(record(spec['template'])?.['spec']);
}

function containersOf(pod: Props): Props[] {
  return [...list(pod['initContainers']), ...list(pod['containers'])].map(record).filter((c): c is Props => c !== undefined);
}

/** Every Secret a pod can read: env, envFrom, secret volumes and projected volumes. */
export function referencedSecrets(pod: Props): string[] {
  const names = new Set<string>();
  for (const container of containersOf(pod)) {
    for (const env of list(container['env'])) {
      const name = text(record(record(record(env)?.['valueFrom'])?.['secretKeyRef'])?.['name']);
      if (name !== undefined) names.add(name);
    }
    for (const source of list(container['envFrom'])) {
      const name = text(record(record(source)?.['secretRef'])?.['name']);
      if (name !== undefined) names.add(name);
    }
  }
  for (const volume of list(pod['volumes']).map(record)) {
    const direct = text(record(volume?.['secret'])?.['secretName']);
    if (direct !== undefined) names.add(direct);
    for (const source of list(record(volume?.['projected'])?.['sources'])) {
      const name = text(record(record(source)?.['secret'])?.['name']);
      if (name !== undefined) names.add(name);
    }
  }
  return [...names];
}

/** The syrf-db subcommand and its flags, as each container invokes it. */
export interface Invocation {
  container: string;
  subcommand: string | undefined;
  args: string[];
}

const SUBCOMMANDS: ReadonlySet<string> = new Set(CLI_COMMANDS);

export function invocations(pod: Props): Invocation[] {
  return containersOf(pod).map((container) => {
    const args = [...list(container['command']), ...list(container['args'])].map((a) => String(a));
    return { container: text(container['name']) ?? '?', subcommand: args.find((a) => SUBCOMMANDS.has(a)), args };
  });
}

export function flagValue(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  if (index >= 0) return args[index + 1];
  const inline = args.find((a) => a.startsWith(`${flag}=`));
  return inline?.slice(flag.length + 1);
}

const WRITES_NON_PROD: ReadonlySet<string> = new Set(TARGET_WRITING_COMMANDS);

/** What the stack is allowed to write, or undefined for prod (which must write nothing but the bucket). */
function allowedTargets(stack: string): string[] | undefined {
  if (stack === 'prod') return undefined;
  const pr = PREVIEW_STACK_PATTERN.exec(stack);
  if (pr?.[1] !== undefined) return [previewDatabase(Number(pr[1]))];
  if (stack === 'staging') return [STAGING_DATABASE];
  return [];
}

export function workloadViolations(stack: string, props: Props): string[] {
  const pod = podSpecOf(props);
  if (pod === undefined) return [];
  const problems: string[] = [];
  const secrets = referencedSecrets(pod);
  const prodSecrets = secrets.filter((s) => PRODUCTION_SECRETS.includes(s));
  const calls = invocations(pod);
  const writesNonProd = calls.some((c) => c.subcommand !== undefined && WRITES_NON_PROD.has(c.subcommand));

  if (stack !== 'prod' && prodSecrets.length > 0) {
    problems.push(`stack "${stack}" is not production but its workload references ${prodSecrets.join(', ')}`);
  } else if (writesNonProd && prodSecrets.length > 0) {
    problems.push(`a restore/clone workload references ${prodSecrets.join(', ')}; it may only use its own database user's Secret`);
  }

  const targets = allowedTargets(stack);
  for (const call of calls) {
    const target = flagValue(call.args, '--target');
    if (target === PROD_DATABASE) problems.push(`container ${call.container} targets the production database ${PROD_DATABASE}`);
    if (call.subcommand === 'snapshot') {
      if (stack !== 'prod') problems.push(`container ${call.container} takes a snapshot outside the prod stack`);
      for (const flag of ['--anonymize', '--rules', '--key-file']) {
        if (!call.args.includes(flag)) problems.push(`snapshot in container ${call.container} lacks ${flag}: snapshots must be anonymized at capture`);
      }
    }
    if (call.subcommand === 'restore' || call.subcommand === 'clone') {
      if (targets === undefined) problems.push(`the prod stack must not run ${call.subcommand} (container ${call.container})`);
      else if (target === undefined || !targets.includes(target)) {
        problems.push(`container ${call.container} targets ${target ?? '(no --target)'}; stack "${stack}" may only write ${targets.join(', ') || 'nothing'}`);
      }
    }
    if (call.subcommand === 'restore') {
      if (!call.args.includes('--rules')) problems.push(`restore in container ${call.container} lacks --rules`);
      if (call.args.includes('--key-file')) {
        problems.push(`restore in container ${call.container} passes --key-file: restores read snapshots anonymized at capture, never raw ones`);
      }
    }
    if (call.subcommand === 'clone' && flagValue(call.args, '--from') !== STAGING_DATABASE) {
      problems.push(`clone in container ${call.container} must copy from ${STAGING_DATABASE}`);
    }
  }
  return problems;
}

/** Non-root, read-only root filesystem, no privilege escalation, all capabilities dropped. */
export function podSecurityViolations(props: Props): string[] {
  const pod = podSpecOf(props);
  if (pod === undefined) return [];
  const problems: string[] = [];
  const podContext = record(pod['securityContext']) ?? {};
  for (const container of containersOf(pod)) {
    const name = text(container['name']) ?? '?';
    const ctx = record(container['securityContext']) ?? {};
    if (ctx['runAsNonRoot'] !== true && podContext['runAsNonRoot'] !== true) problems.push(`container ${name} must run as non-root`);
    if (ctx['readOnlyRootFilesystem'] !== true) problems.push(`container ${name} must have a read-only root filesystem`);
    if (ctx['allowPrivilegeEscalation'] !== false) problems.push(`container ${name} must set allowPrivilegeEscalation: false`);
    if (ctx['privileged'] === true) problems.push(`container ${name} must not be privileged`);
    const dropped = list(record(ctx['capabilities'])?.['drop']).map(String);
    if (!dropped.includes('ALL')) problems.push(`container ${name} must drop ALL capabilities`);
  }
  return problems;
}

// ---------------------------------------------------------------- database users

export const ALLOWED_DATABASE_ROLES = new Set(['read', 'readWrite', 'dbAdmin']);

export function atlasUserViolations(stack: string, props: Props): string[] {
  const spec = record(props['spec']) ?? {};
  const username = text(spec['username']) ?? '?';
  const problems: string[] = [];
  if (list(spec['scopes']).length === 0) problems.push(`database user ${username} must be scoped to its cluster (spec.scopes)`);
  const pr = PREVIEW_STACK_PATTERN.exec(stack);
  for (const role of list(spec['roles']).map(record)) {
    const roleName = text(role?.['roleName']) ?? '?';
    const db = text(role?.['databaseName']) ?? '?';
    const grant = `${roleName}@${db}`;
    if (!ALLOWED_DATABASE_ROLES.has(roleName)) {
      problems.push(`database user ${username} has ${grant}; only read, readWrite and dbAdmin on a named database are allowed`);
      continue;
    }
    if (text(role?.['collectionName']) === undefined && db === 'admin') problems.push(`database user ${username} has ${grant}: roles on admin reach every database`);
    if (stack === 'prod') {
      if (!(roleName === 'read' && db === PROD_DATABASE)) problems.push(`prod database user ${username} has ${grant}; the producer may only read ${PROD_DATABASE}`);
    } else if (db === PROD_DATABASE) {
      problems.push(`non-production database user ${username} (stack "${stack}") has ${grant} on the production database`);
    } else if (pr?.[1] !== undefined) {
      const own = previewDatabase(Number(pr[1]));
      if (db !== own && !(db === STAGING_DATABASE && roleName === 'read')) {
        problems.push(`preview database user ${username} has ${grant}; it may only write ${own} (and read ${STAGING_DATABASE})`);
      }
    } else if (stack === 'staging') {
      if (db !== STAGING_DATABASE && db !== 'syrf_drill') problems.push(`staging database user ${username} has ${grant}; it may only use ${STAGING_DATABASE} (and the drill's syrf_drill)`);
    } else {
      problems.push(`database user ${username} in unknown stack "${stack}" has ${grant}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- namespaces

/**
 * The trust boundary between PR stacks and production. A PR stack is deployed by an
 * identity whose rights end at the preview namespace, so everything it declares must
 * live there, and it may declare no cloud resource and nothing that grants or
 * impersonates. No stack may put a production secret or the producer's identity
 * into the preview namespace.
 */
export function namespaceViolations(stack: string, type: string, props: Props): string[] {
  const problems: string[] = [];
  const metadata = record(props['metadata']) ?? {};
  const namespace = text(metadata['namespace']);
  const name = text(metadata['name']) ?? '?';
  if (PREVIEW_STACK_PATTERN.test(stack)) {
    // Components (syrf:*) only group; passwords (random:*) live in state.
    if (!/^(kubernetes|random|pulumi|syrf):/.test(type)) {
      problems.push(`PR stack "${stack}" declares ${type}; PR stacks may only declare Kubernetes objects in ${DEFAULT_PREVIEW_NAMESPACE}`);
    } else if (type.startsWith('kubernetes:') && !type.startsWith('pulumi:providers:')) {
      if (/^kubernetes:(rbac\.authorization\.k8s\.io\/v1:|core\/v1:(ServiceAccount|Namespace)$)/.test(type)) {
        problems.push(`PR stack "${stack}" declares ${type} ${name}; it may not create identities, namespaces or grants`);
      }
      if (namespace !== DEFAULT_PREVIEW_NAMESPACE) {
        problems.push(`PR stack "${stack}" puts ${type} ${name} in namespace ${namespace ?? '(none)'}; everything it declares lives in ${DEFAULT_PREVIEW_NAMESPACE}`);
      }
    }
  }
  if (namespace === DEFAULT_PREVIEW_NAMESPACE) {
    if (type === 'kubernetes:core/v1:Secret' && PRODUCTION_SECRETS.includes(name)) {
      problems.push(`Secret ${name} carries production power and must never exist in ${DEFAULT_PREVIEW_NAMESPACE}`);
    }
    if (type === 'kubernetes:core/v1:ServiceAccount' && name === PRODUCER_KSA) {
      problems.push(`the producer's service account must never exist in ${DEFAULT_PREVIEW_NAMESPACE}`);
    }
    const pod = podSpecOf(props);
    const secrets = pod === undefined ? [] : referencedSecrets(pod).filter((s) => PRODUCTION_SECRETS.includes(s));
    if (secrets.length > 0) problems.push(`a workload in ${DEFAULT_PREVIEW_NAMESPACE} references ${secrets.join(', ')}`);
    if (pod !== undefined && text(pod['serviceAccountName']) === PRODUCER_KSA) {
      problems.push(`a workload in ${DEFAULT_PREVIEW_NAMESPACE} runs as the producer's service account`);
    }
  }
  return problems;
}
