import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { ProdConfig } from './config.js';

/**
 * The snapshot bucket: private by construction (uniform access, public
 * access prevention enforced), versioned so an overwritten `latest.txt` or
 * a bad prune can be undone, and self-cleaning through lifecycle rules.
 */

export type BucketConfig = Pick<
  ProdConfig,
  'bucketName' | 'gcpProject' | 'bucketLocation' | 'snapshotRetentionDays' | 'noncurrentRetentionDays' | 'labels'
>;

export function bucketArgs(config: BucketConfig) {
  return {
    name: config.bucketName,
    project: config.gcpProject,
    location: config.bucketLocation,
    storageClass: 'STANDARD',
    uniformBucketLevelAccess: true,
    publicAccessPrevention: 'enforced',
    versioning: { enabled: true },
    forceDestroy: false,
    lifecycleRules: [
      {
        // Live objects only: `latest.txt` is rewritten daily, so its age never reaches the limit while snapshots run.
        action: { type: 'Delete' },
        condition: { age: config.snapshotRetentionDays, withState: 'LIVE' },
      },
      {
        action: { type: 'Delete' },
        condition: { daysSinceNoncurrentTime: config.noncurrentRetentionDays, withState: 'ARCHIVED' },
      },
    ],
    labels: config.labels,
  } satisfies gcp.storage.BucketArgs;
}

export class SnapshotBucket extends pulumi.ComponentResource {
  readonly bucket: gcp.storage.Bucket;
  readonly bucketName: pulumi.Output<string>;

  constructor(name: string, config: BucketConfig, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:SnapshotBucket', name, {}, opts);
    // Protected: deleting the bucket is never a side effect of a refactor.
    this.bucket = new gcp.storage.Bucket(name, bucketArgs(config), { parent: this, protect: true });
    this.bucketName = this.bucket.name;
    this.registerOutputs({ bucketName: this.bucketName });
  }
}
