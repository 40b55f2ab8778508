import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { AtlasProjectReference, CommonConfig } from './config.js';
import { CONNECTION_STRING_KEY, PROD_DATABASE, previewDatabase, STAGING_DATABASE } from './names.js';
import { standardLabels } from './workload.js';

/**
 * Database-level least privilege: one MongoDB Atlas user per job family,
 * declared as AtlasDatabaseUser custom resources for the Atlas Kubernetes
 * Operator (v2.x, `atlas.mongodb.com/v1`, dual project reference). Each
 * user's password is generated here and lives only in that user's Secret,
 * next to the connection string its job reads. A preview user cannot even
 * name the production database: the second wall behind the runtime's
 * target guard. docs/permissions.md explains each role.
 */

export interface DatabaseRole {
  roleName: string;
  databaseName: string;
}

/** Dump needs find, listCollections, listIndexes (and dbStats for sizes): all in `read`, no need for the cluster-wide `backup`. */
export function producerRoles(): DatabaseRole[] {
  return [{ roleName: 'read', databaseName: PROD_DATABASE }];
}

/** Restore into temp collections, build indexes, rename over the target: readWrite + dbAdmin on one database. */
export function stagingRoles(): DatabaseRole[] {
  return [
    { roleName: 'readWrite', databaseName: STAGING_DATABASE },
    { roleName: 'dbAdmin', databaseName: STAGING_DATABASE },
  ];
}

export function previewRoles(prNumber: number, dbSource: 'seed' | 'snapshot' | 'staging'): DatabaseRole[] {
  const target = previewDatabase(prNumber);
  const roles: DatabaseRole[] = [
    { roleName: 'readWrite', databaseName: target },
    { roleName: 'dbAdmin', databaseName: target },
  ];
  // Cloning reads staging; every other source never needs to see it.
  if (dbSource === 'staging') roles.push({ roleName: 'read', databaseName: STAGING_DATABASE });
  return roles;
}

export const ATLAS_API_VERSION = 'atlas.mongodb.com/v1';
/**
 * The operator keeps the Atlas user when its custom resource is deleted unless told
 * otherwise; with this, destroying a stack removes the user and its roles from Atlas.
 */
export const ATLAS_DELETE_WITH_RESOURCE = { 'mongodb.com/atlas-resource-policy': 'delete' } as const;
export const ATLAS_USER_KIND = 'AtlasDatabaseUser';

export interface AtlasUserArgs {
  resourceName: string;
  namespace: string;
  username: string;
  roles: DatabaseRole[];
  passwordSecretName: string;
  project: AtlasProjectReference;
  clusterName: string;
  description: string;
}

function projectReference(project: AtlasProjectReference) {
  if ('projectRef' in project) return { projectRef: project.projectRef };
  return { externalProjectRef: { id: project.externalProjectId }, connectionSecret: { name: project.connectionSecret } };
}

export function atlasUserSpec(args: AtlasUserArgs) {
  return {
    apiVersion: ATLAS_API_VERSION,
    kind: ATLAS_USER_KIND,
    metadata: {
      name: args.resourceName,
      namespace: args.namespace,
      labels: standardLabels('database-user'),
      annotations: { ...ATLAS_DELETE_WITH_RESOURCE },
    },
    spec: {
      ...projectReference(args.project),
      username: args.username,
      databaseName: 'admin',
      roles: args.roles,
      // Only the one cluster: the same user name on another cluster of the project gets nothing.
      scopes: [{ name: args.clusterName, type: 'CLUSTER' }],
      passwordSecretRef: { name: args.passwordSecretName },
      description: args.description,
    },
  };
}

export function connectionString(host: string, username: string, password: string): string {
  return `mongodb+srv://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}/?authSource=admin&retryWrites=true&w=majority`;
}

/** Label the operator uses to watch password Secrets, so a rotated password is re-applied. */
export const ATLAS_CREDENTIALS_LABEL = { 'atlas.mongodb.com/type': 'credentials' };

export interface DatabaseUserArgs {
  config: Pick<CommonConfig, 'namespace' | 'mongoHost' | 'atlasProject' | 'atlasClusterName'>;
  username: string;
  secretName: string;
  roles: DatabaseRole[];
  description: string;
}

export class DatabaseUser extends pulumi.ComponentResource {
  readonly secretName: string;
  readonly username: string;
  readonly resources: pulumi.Resource[];

  constructor(name: string, args: DatabaseUserArgs, opts?: pulumi.ComponentResourceOptions) {
    super('syrf:db:DatabaseUser', name, {}, opts);
    this.secretName = args.secretName;
    this.username = args.username;
    // Alphanumeric only: the password goes into a URI and must not need escaping by hand anywhere.
    const password = new random.RandomPassword(`${name}-password`, { length: 40, special: false }, { parent: this });
    const secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: {
          name: args.secretName,
          namespace: args.config.namespace,
          labels: { ...standardLabels('database-user'), ...ATLAS_CREDENTIALS_LABEL },
        },
        type: 'Opaque',
        stringData: {
          password: password.result,
          [CONNECTION_STRING_KEY]: password.result.apply((value) => connectionString(args.config.mongoHost, args.username, value)),
        },
      },
      { parent: this },
    );
    const spec = atlasUserSpec({
      resourceName: args.username,
      namespace: args.config.namespace,
      username: args.username,
      roles: args.roles,
      passwordSecretName: args.secretName,
      project: args.config.atlasProject,
      clusterName: args.config.atlasClusterName,
      description: args.description,
    });
    const user = new k8s.apiextensions.CustomResource(`${name}-user`, spec, { parent: this, dependsOn: [secret] });
    this.resources = [secret, user];
    this.registerOutputs({ secretName: this.secretName, username: this.username });
  }
}
