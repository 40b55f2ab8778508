/**
 * Stand-in for `syrf-db anonymize` while the CLI lacks that command: the
 * same runtime function, nothing else in the process.
 * Usage: anonymize.ts RULES INPUT OUTPUT   (key from $SYRF_ANONYMIZATION_KEY)
 */
import { loadAnonymizationKey } from '../../runtime/anonymize/key.js';
import { loadRules } from '../../runtime/anonymize/rules.js';
import { anonymizeFile } from '../../runtime/io/anonymize-file.js';

const [rulesPath, input, output] = process.argv.slice(2);
if (!rulesPath || !input || !output) throw new Error('usage: anonymize.ts RULES INPUT OUTPUT');
await anonymizeFile({ input, output, gzip: true, rules: await loadRules(rulesPath), key: await loadAnonymizationKey({}) });
