import { createHash } from 'node:crypto';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { RULES_FILE_NAME } from './names.js';
import { standardLabels, type Built } from './workload.js';

/**
 * The anonymization rules as a ConfigMap whose name carries the content
 * hash: a rules change creates a new ConfigMap, which changes the job specs
 * that mount it, so the next run can never pick up a stale rules file.
 */

export function rulesHash(rulesYaml: string): string {
  return createHash('sha256').update(rulesYaml).digest('hex');
}

export function rulesConfigMapName(prefix: string, rulesYaml: string): string {
  return `${prefix}-${rulesHash(rulesYaml).slice(0, 10)}`;
}

export function rulesConfigMapSpec(prefix: string, namespace: string, rulesYaml: string): Built<IConfigMap, 'metadata' | 'data'> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: rulesConfigMapName(prefix, rulesYaml),
      namespace,
      labels: standardLabels('anonymization-rules'),
      annotations: { 'syrf.camarades.org/rules-sha256': rulesHash(rulesYaml) },
    },
    immutable: true,
    data: { [RULES_FILE_NAME]: rulesYaml },
  };
}

export interface RulesConfigMapArgs {
  /** Distinguishes stacks sharing a namespace, e.g. `anonymization-rules-pr-42`. */
  prefix: string;
  namespace: string;
  rulesYaml: string;
}

export class RulesConfigMap extends pulumi.ComponentResource {
  readonly configMapName: string;

  constructor(name: string, args: RulesConfigMapArgs, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:RulesConfigMap', name, {}, opts);
    const spec = rulesConfigMapSpec(args.prefix, args.namespace, args.rulesYaml);
    this.configMapName = rulesConfigMapName(args.prefix, args.rulesYaml);
    new k8s.core.v1.ConfigMap(name, { metadata: spec.metadata, immutable: true, data: spec.data }, { parent: this });
    this.registerOutputs({ configMapName: this.configMapName });
  }
}
