import type { ResourceValidationArgs, ResourceValidationPolicy } from '@pulumi/policy';
import {
  atlasUserViolations,
  bucketIamViolations,
  bucketViolations,
  namespaceViolations,
  podSecurityViolations,
  serviceAccountKeyViolations,
  stackOfUrn,
  workloadViolations,
} from './invariants.js';

/**
 * The guardrails every stack of this project must pass, whatever the
 * program declares: the same invariants the unit tests assert, enforced at
 * `pulumi preview`/`up` time with `--policy-pack infra/policy`.
 */

type Check = (args: ResourceValidationArgs) => string[];

function policy(name: string, description: string, types: readonly string[], check: Check): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: 'mandatory',
    validateResource: (args, reportViolation) => {
      if (!types.includes(args.type)) return;
      for (const message of check(args)) reportViolation(message);
    },
  };
}

const WORKLOAD_TYPES = [
  'kubernetes:batch/v1:Job',
  'kubernetes:batch/v1:CronJob',
  'kubernetes:core/v1:Pod',
  'kubernetes:apps/v1:Deployment',
  'kubernetes:apps/v1:StatefulSet',
  'kubernetes:apps/v1:DaemonSet',
] as const;

export const policies: ResourceValidationPolicy[] = [
  {
    name: 'preview-namespace-isolation',
    description:
      'PR stacks declare only Kubernetes objects in the preview namespace (no cloud resources, identities or grants); no production secret or producer identity ever enters that namespace.',
    enforcementLevel: 'mandatory',
    validateResource: (args, reportViolation) => {
      for (const message of namespaceViolations(stackOfUrn(args.urn), args.type, args.props)) reportViolation(message);
    },
  },
  policy(
    'snapshot-bucket-private',
    'Buckets enforce public access prevention and uniform bucket-level access.',
    ['gcp:storage/bucket:Bucket'],
    (args) => bucketViolations(args.props),
  ),
  policy(
    'no-public-bucket-iam',
    'No bucket IAM grant to allUsers or allAuthenticatedUsers.',
    ['gcp:storage/bucketIAMMember:BucketIAMMember', 'gcp:storage/bucketIAMBinding:BucketIAMBinding'],
    (args) => bucketIamViolations(args.props),
  ),
  policy(
    'no-bucket-acls',
    'No legacy ACLs on buckets or objects; access goes through IAM only.',
    [
      'gcp:storage/bucketACL:BucketACL',
      'gcp:storage/bucketAccessControl:BucketAccessControl',
      'gcp:storage/defaultObjectACL:DefaultObjectACL',
      'gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl',
      'gcp:storage/objectACL:ObjectACL',
      'gcp:storage/objectAccessControl:ObjectAccessControl',
    ],
    () => ['ACL resources are forbidden: the snapshot bucket uses uniform bucket-level access'],
  ),
  policy(
    'no-service-account-keys',
    'Workloads use Workload Identity; no service account key is created.',
    ['gcp:serviceaccount/key:Key'],
    () => serviceAccountKeyViolations(),
  ),
  policy(
    'no-prod-secret-outside-prod',
    'Non-production workloads and every restore/clone never reference the production Mongo secret or the HMAC key; restores target only the stack\'s own database and never restore raw data.',
    WORKLOAD_TYPES,
    (args) => workloadViolations(stackOfUrn(args.urn), args.props),
  ),
  policy(
    'hardened-pods',
    'Containers run as non-root with a read-only root filesystem, no privilege escalation and no capabilities.',
    WORKLOAD_TYPES,
    (args) => podSecurityViolations(args.props),
  ),
  policy(
    'least-privilege-database-users',
    'Atlas database users get read/readWrite/dbAdmin on named databases only; non-production users never reach syrftest.',
    ['kubernetes:atlas.mongodb.com/v1:AtlasDatabaseUser'],
    (args) => atlasUserViolations(stackOfUrn(args.urn), args.props),
  ),
];
