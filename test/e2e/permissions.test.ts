/**
 * What a preview restore and a staging clone actually send to the server,
 * checked against the privileges of the roles the per-PR database user gets
 * (readWrite + dbAdmin on syrf_pr_<N>, read on syrf_staging for clones).
 * FerretDB enforces no roles, so the proof is the recorded command list:
 * every command maps to privilege actions (docs/permissions.md), and each
 * action must be granted on the database the command ran in.
 */
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/ops/log.js';
import { restoreSnapshot } from '../../runtime/restore/restore.js';
import { cloneDatabase } from '../../runtime/restore/clone.js';
import { openStore } from '../../runtime/store/open.js';
import { runCli } from '../support/cli.js';
import { seedDataset } from '../support/dataset.js';
import { isFerretDb, mongodbUri, tempDir, uniqueDbName } from '../support/servers.js';

// MongoDB's built-in roles (Built-In Roles reference), the actions that matter here.
const ROLE_ACTIONS: Record<string, string[]> = {
  read: ['changeStream', 'collStats', 'dbHash', 'dbStats', 'find', 'killCursors', 'listCollections', 'listIndexes'],
  readWrite: [
    'changeStream', 'collStats', 'convertToCapped', 'createCollection', 'createIndex', 'dbHash', 'dbStats', 'dropCollection',
    'dropIndex', 'find', 'insert', 'killCursors', 'listCollections', 'listIndexes', 'remove', 'renameCollectionSameDB', 'update',
  ],
  dbAdmin: [
    'bypassDocumentValidation', 'collMod', 'collStats', 'compact', 'convertToCapped', 'createCollection', 'createIndex', 'dbStats',
    'dropCollection', 'dropDatabase', 'dropIndex', 'enableProfiler', 'listCollections', 'listIndexes', 'planCacheRead', 'reIndex',
    'renameCollectionSameDB', 'storageDetails', 'validate',
  ],
};

// Commands any authenticated user may run (no privilege action), wherever they are sent.
const UNPRIVILEGED = new Set(['ping', 'hello', 'isMaster', 'ismaster', 'buildInfo', 'buildinfo', 'endSessions', 'saslStart', 'saslContinue']);

/** Privilege actions a command needs (MongoDB Privilege Actions reference). */
function actionsOf(event: CommandStartedEvent): string[] {
  const command = event.command;
  switch (event.commandName) {
    case 'insert':
      return command.bypassDocumentValidation ? ['insert', 'bypassDocumentValidation'] : ['insert'];
    case 'update':
      return ['update', ...(command.updates?.some((u: { upsert?: boolean }) => u.upsert) ? ['insert'] : [])];
    case 'delete':
      return ['remove'];
    case 'findAndModify':
      return ['find', command.remove ? 'remove' : 'update', ...(command.upsert ? ['insert'] : [])];
    case 'find':
    case 'aggregate':
    case 'count':
      return ['find'];
    case 'getMore':
      return ['find'];
    case 'killCursors':
      return ['killCursors'];
    case 'listCollections':
      return ['listCollections'];
    case 'listIndexes':
      return ['listIndexes'];
    case 'create':
      return ['createCollection'];
    case 'createIndexes':
      return ['createIndex'];
    case 'drop':
      return ['dropCollection'];
    case 'collStats':
      return ['collStats'];
    case 'renameCollection': {
      const [fromDb] = String(command.renameCollection).split('.');
      const [toDb] = String(command.to).split('.');
      return fromDb === toDb ? ['renameCollectionSameDB', ...(command.dropTarget ? ['dropCollection'] : [])] : ['CROSS-DATABASE-RENAME'];
    }
    // With authorizedDatabases (the default for users without the cluster action) it lists only the user's databases.
    case 'listDatabases':
      return [];
    default:
      return [`UNKNOWN:${event.commandName}`];
  }
}

/** The database a command's privileges are checked on (renameCollection runs on admin but names its source). */
function privilegeDb(event: CommandStartedEvent): string {
  if (event.commandName === 'renameCollection') return String(event.command.renameCollection).split('.')[0]!;
  return event.databaseName;
}

function checkAgainstRoles(events: CommandStartedEvent[], grants: Record<string, string[]>): string[] {
  const problems: string[] = [];
  for (const event of events) {
    if (UNPRIVILEGED.has(event.commandName)) continue;
    const db = privilegeDb(event);
    const granted = new Set((grants[db] ?? []).flatMap((role) => ROLE_ACTIONS[role] ?? []));
    for (const action of actionsOf(event)) {
      if (!granted.has(action)) problems.push(`${event.commandName} on ${db} needs ${action}`);
    }
  }
  return problems;
}

describe('the per-PR user roles are enough, and nothing more is used', () => {
  const dir = tempDir();
  const store = `file://${dir.path}`;
  const key = { SYRF_ANONYMIZATION_KEY: 'n7Rk2Qx9LvB4mT8wZ1cY6pH3dF5gJ0sAq8Ue2Xi7oW4tN9bK3yV6zM1rC5aE0hG' };
  let client: MongoClient;
  let events: CommandStartedEvent[] = [];
  let source: string;
  const pr = `syrf_pr_${Math.floor(Math.random() * 1e9)}`;
  const stagingLike = `syrf_pr_${Math.floor(Math.random() * 1e9)}`;

  beforeAll(async () => {
    client = new MongoClient(mongodbUri(), { monitorCommands: true });
    await client.connect();
    source = uniqueDbName('syrfperm_');
    await seedDataset(client.db(source), { studies: 200 });
    const snap = await runCli(['snapshot', '--uri', mongodbUri(), '--db', source, '--to', store, '--anonymize', '--rules', 'rules/anonymization-rules.yaml'], { env: key });
    expect(snap.code, snap.stderr).toBe(0);
    client.on('commandStarted', (event) => events.push(event));
  });

  afterAll(async () => {
    for (const name of [source, pr, stagingLike]) await client.db(name).dropDatabase();
    await client.close();
    dir.remove();
  });

  it('a restore (twice: into an empty and into a populated database) needs only readWrite + dbAdmin on its target', async () => {
    events = [];
    const logger = createLogger({ format: 'text', quiet: true });
    for (let run = 0; run < 2; run++) {
      await restoreSnapshot({ store: openStore(store), snapshot: 'latest', client, target: pr, holder: 'permissions-test', logger });
    }
    const used = new Set(events.map((e) => e.commandName));
    // The steps docs/permissions.md lists: lock, leftovers, temp collections, bulk insert, indexes, rename over the target.
    for (const step of ['insert', 'listCollections', 'create', 'createIndexes', 'renameCollection', 'delete']) expect(used.has(step), step).toBe(true);
    if (isFerretDb()) expect(used.has('drop')).toBe(true);

    expect(checkAgainstRoles(events, { [pr]: ['readWrite', 'dbAdmin'] })).toEqual([]);
    // Without dbAdmin the bulk load would be refused (bypassDocumentValidation), so the role is needed, not decoration.
    expect(checkAgainstRoles(events, { [pr]: ['readWrite'] })).toContain(`insert on ${pr} needs bypassDocumentValidation`);
    expect(events.filter((e) => !UNPRIVILEGED.has(e.commandName)).map(privilegeDb).filter((db) => db !== pr)).toEqual([]);
  });

  it('a clone reads its source with read only and writes its target with readWrite + dbAdmin', async () => {
    await restoreSnapshot({ store: openStore(store), snapshot: 'latest', client, target: stagingLike, holder: 'permissions-test', logger: createLogger({ format: 'text', quiet: true }) });
    events = [];
    await cloneDatabase({ client, from: stagingLike, target: pr, holder: 'permissions-test', logger: createLogger({ format: 'text', quiet: true }) });
    expect(checkAgainstRoles(events, { [stagingLike]: ['read'], [pr]: ['readWrite', 'dbAdmin'] })).toEqual([]);
    // and it never writes to its source
    const writesToSource = events.filter((e) => privilegeDb(e) === stagingLike && actionsOf(e).some((a) => !ROLE_ACTIONS.read!.includes(a)));
    expect(writesToSource.map((e) => e.commandName)).toEqual([]);
  });
});
