/**
 * Stand-in for `syrf-db restore` while the CLI lacks that command: the
 * same runtime function, nothing else in the process.
 * Usage: restore.ts STORE_URL SNAPSHOT_ID MONGODB_URI TARGET_DB
 */
import { connectMongo } from '../../runtime/mongo/connect.js';
import { silentLogger } from '../../runtime/ops/log.js';
import { restoreSnapshot } from '../../runtime/restore/restore.js';
import { openStore } from '../../runtime/store/open.js';

const [storeUrl, snapshot, uri, target] = process.argv.slice(2);
if (!storeUrl || !snapshot || !uri || !target) throw new Error('usage: restore.ts STORE_URL SNAPSHOT_ID MONGODB_URI TARGET_DB');
const client = await connectMongo(uri);
try {
  await restoreSnapshot({ store: openStore(storeUrl), snapshot, client, target, holder: 'syrf-db-tools bench', logger: silentLogger });
} finally {
  await client.close();
}
