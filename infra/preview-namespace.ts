import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { MANIFEST_PUBLIC_KEYS_CONFIGMAP, MANIFEST_PUBLIC_KEYS_CONFIGMAP_KEY, RESTORER_KSA } from './names.js';
import { WorkloadIdentity } from './identities.js';
import { standardLabels } from './workload.js';

/**
 * The namespace preview Jobs run in, prepared by the prod stack (which holds the
 * cluster-admin credentials): Pod Security `restricted`, a restorer service account
 * bound to the read-only restorer identity, and a Role for the preview deployer that
 * reaches nothing outside it. No production secret, producer identity or HMAC key
 * is ever declared here; the policy pack refuses one that is.
 */

export const PREVIEW_DEPLOYER_ROLE = 'syrf-db-preview-deployer';

export function previewNamespaceSpec(name: string) {
  return {
    metadata: {
      name,
      labels: {
        ...standardLabels('previews'),
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
      },
    },
  };
}

export function manifestPublicKeysConfigMapSpec(namespace: string, publicKeys: string) {
  return {
    metadata: { name: MANIFEST_PUBLIC_KEYS_CONFIGMAP, namespace, labels: standardLabels('previews') },
    data: { [MANIFEST_PUBLIC_KEYS_CONFIGMAP_KEY]: publicKeys },
  };
}

/** What a PR stack creates and waits on; nothing that grants or impersonates (no RBAC, no service accounts). */
export function previewDeployerRules() {
  const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
  return [
    { apiGroups: ['batch'], resources: ['jobs'], verbs },
    { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs },
    { apiGroups: ['atlas.mongodb.com'], resources: ['atlasdatabaseusers'], verbs },
    // Pulumi's Job await and the workflow's failure report read pods and their logs.
    { apiGroups: [''], resources: ['pods', 'pods/log', 'events'], verbs: ['get', 'list', 'watch'] },
  ];
}

export function previewDeployerRoleSpec(namespace: string) {
  return { metadata: { name: PREVIEW_DEPLOYER_ROLE, namespace, labels: standardLabels('previews') }, rules: previewDeployerRules() };
}

/** GKE maps a Google service account to the Kubernetes user named by its email. */
export function previewDeployerBindingSpec(namespace: string, deployerEmail: string) {
  return {
    metadata: { name: PREVIEW_DEPLOYER_ROLE, namespace, labels: standardLabels('previews') },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: PREVIEW_DEPLOYER_ROLE },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: deployerEmail }],
  };
}

export interface PreviewNamespaceArgs {
  project: string;
  namespace: string;
  restorerEmail: pulumi.Input<string>;
  deployerEmail: string;
  /** The producer's public key(s): per-PR restore Jobs read them from a ConfigMap here. */
  manifestPublicKeys: string;
}

export class PreviewNamespace extends pulumi.ComponentResource {
  readonly namespaceName: string;

  constructor(name: string, args: PreviewNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:PreviewNamespace', name, {}, opts);
    this.namespaceName = args.namespace;
    const namespace = new k8s.core.v1.Namespace(name, previewNamespaceSpec(args.namespace), { parent: this });
    const inNamespace = { parent: this, dependsOn: [namespace] };
    new WorkloadIdentity(
      `${name}-restorer`,
      { project: args.project, namespace: args.namespace, ksaName: RESTORER_KSA, gsaEmail: args.restorerEmail },
      inNamespace,
    );
    new k8s.core.v1.ConfigMap(`${name}-manifest-public-keys`, manifestPublicKeysConfigMapSpec(args.namespace, args.manifestPublicKeys), inNamespace);
    new k8s.rbac.v1.Role(`${name}-deployer`, previewDeployerRoleSpec(args.namespace), inNamespace);
    new k8s.rbac.v1.RoleBinding(`${name}-deployer`, previewDeployerBindingSpec(args.namespace, args.deployerEmail), inNamespace);
    this.registerOutputs({ namespaceName: this.namespaceName });
  }
}
