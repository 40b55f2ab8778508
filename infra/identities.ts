import * as gcp from '@pulumi/gcp';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  LATEST_MARKER,
  PRODUCER_GSA_ID,
  PRODUCER_KSA,
  RESTORER_GSA_ID,
  RESTORER_KSA,
  SNAPSHOT_OBJECTS,
  SNAPSHOT_PREFIX,
} from './names.js';
import { standardLabels } from './workload.js';

/**
 * Who may touch the bucket, and how pods become them. Two Google service
 * accounts (producer writes `prod/`, restorers read anonymized snapshot
 * objects), Kubernetes service accounts that impersonate them through
 * Workload Identity, and no keys anywhere.
 */

export const PRODUCER_BUCKET_ROLE = 'roles/storage.objectAdmin';
export const RESTORER_BUCKET_ROLE = 'roles/storage.objectViewer';
export const WORKLOAD_IDENTITY_ROLE = 'roles/iam.workloadIdentityUser';

function objectPath(bucket: string, object: string): string {
  return `projects/_/buckets/${bucket}/objects/${object}`;
}

/** Object listing is authorized on the bucket, so its prefix is checked through the request attribute. */
function listPrefixClause(prefix: string): string {
  return `api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("${prefix}")`;
}

/** Producer: create, overwrite, delete (prune) and list objects under `prod/` only. */
export function producerCondition(bucket: string): { title: string; description: string; expression: string } {
  return {
    title: 'snapshot-producer-prod-prefix',
    description: 'Objects under prod/ only',
    expression: `resource.name.startsWith("${objectPath(bucket, SNAPSHOT_PREFIX)}") || ${listPrefixClause(SNAPSHOT_PREFIX)}`,
  };
}

/**
 * Restorers: read the marker and the files of each snapshot under
 * `prod/` (written only by the producer, which always anonymizes), and list
 * `prod/` to resolve ids. Anything else in the bucket stays unreadable.
 */
export function restorerCondition(bucket: string): { title: string; description: string; expression: string } {
  const snapshotFiles = SNAPSHOT_OBJECTS.map((file) => `resource.name.endsWith("/${file}")`).join(' || ');
  return {
    title: 'snapshot-restorer-anonymized-objects',
    description: `prod/latest.txt and prod/<id>/{${SNAPSHOT_OBJECTS.join(',')}} only`,
    expression:
      `resource.name == "${objectPath(bucket, LATEST_MARKER)}" || ` +
      `(resource.name.startsWith("${objectPath(bucket, SNAPSHOT_PREFIX)}") && (${snapshotFiles})) || ` +
      listPrefixClause(SNAPSHOT_PREFIX),
  };
}

export function workloadIdentityMember(project: string, namespace: string, ksa: string): string {
  return `serviceAccount:${project}.svc.id.goog[${namespace}/${ksa}]`;
}

export function serviceAccountSpec<Email>(name: string, namespace: string, gsaEmail: Email) {
  return {
    metadata: {
      name,
      namespace,
      labels: standardLabels('identity'),
      annotations: { 'iam.gke.io/gcp-service-account': gsaEmail },
    },
    automountServiceAccountToken: false,
  };
}

export interface WorkloadIdentityArgs {
  project: string;
  namespace: string;
  ksaName: string;
  /** The Google service account's email. */
  gsaEmail: pulumi.Input<string>;
}

/**
 * A Kubernetes service account that acts as a Google service account:
 * the KSA carries the annotation, the GSA grants `workloadIdentityUser` to
 * exactly that namespace/name.
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly binding: gcp.serviceaccount.IAMMember;

  constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:WorkloadIdentity', name, {}, opts);
    this.serviceAccount = new k8s.core.v1.ServiceAccount(name, serviceAccountSpec(args.ksaName, args.namespace, args.gsaEmail), {
      parent: this,
    });
    this.binding = new gcp.serviceaccount.IAMMember(
      `${name}-wi`,
      {
        serviceAccountId: pulumi.interpolate`projects/${args.project}/serviceAccounts/${args.gsaEmail}`,
        role: WORKLOAD_IDENTITY_ROLE,
        member: workloadIdentityMember(args.project, args.namespace, args.ksaName),
      },
      { parent: this },
    );
    this.registerOutputs({ serviceAccountName: args.ksaName });
  }
}

export interface IdentitiesArgs {
  project: string;
  namespace: string;
  bucketName: pulumi.Input<string>;
}

/** Prod stack: both Google service accounts, their bucket grants and the KSAs that run in `namespace`. */
export class SnapshotIdentities extends pulumi.ComponentResource {
  readonly producerEmail: pulumi.Output<string>;
  readonly restorerEmail: pulumi.Output<string>;
  readonly producerKsa = PRODUCER_KSA;
  readonly restorerKsa = RESTORER_KSA;

  constructor(name: string, args: IdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:SnapshotIdentities', name, {}, opts);
    const producer = new gcp.serviceaccount.Account(
      `${name}-producer`,
      { project: args.project, accountId: PRODUCER_GSA_ID, displayName: 'SyRF DB snapshot producer', description: 'Writes anonymized snapshots under prod/' },
      { parent: this },
    );
    const restorer = new gcp.serviceaccount.Account(
      `${name}-restorer`,
      { project: args.project, accountId: RESTORER_GSA_ID, displayName: 'SyRF DB snapshot restorer', description: 'Reads anonymized snapshots' },
      { parent: this },
    );
    this.producerEmail = producer.email;
    this.restorerEmail = restorer.email;

    new gcp.storage.BucketIAMMember(
      `${name}-producer-bucket`,
      {
        bucket: args.bucketName,
        role: PRODUCER_BUCKET_ROLE,
        member: pulumi.interpolate`serviceAccount:${producer.email}`,
        condition: pulumi.output(args.bucketName).apply(producerCondition),
      },
      { parent: this },
    );
    new gcp.storage.BucketIAMMember(
      `${name}-restorer-bucket`,
      {
        bucket: args.bucketName,
        role: RESTORER_BUCKET_ROLE,
        member: pulumi.interpolate`serviceAccount:${restorer.email}`,
        condition: pulumi.output(args.bucketName).apply(restorerCondition),
      },
      { parent: this },
    );

    new WorkloadIdentity(`${name}-producer`, { project: args.project, namespace: args.namespace, ksaName: PRODUCER_KSA, gsaEmail: producer.email }, { parent: this });
    new WorkloadIdentity(`${name}-restorer`, { project: args.project, namespace: args.namespace, ksaName: RESTORER_KSA, gsaEmail: restorer.email }, { parent: this });

    this.registerOutputs({ producerEmail: this.producerEmail, restorerEmail: this.restorerEmail });
  }
}
