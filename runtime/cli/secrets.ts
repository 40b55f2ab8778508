/**
 * Before anything can fail, every secret this process was handed (in its
 * environment or on its command line) is registered with the redaction, so
 * no error, log or audit line can print it, whichever code path fails.
 */
import { registerSecret, registerUriSecrets } from '../ops/redact.js';

/** Environment variables whose whole value is secret. */
const SECRET_ENV = ['SYRF_ANONYMIZATION_KEY', 'SYRF_MANIFEST_SIGNING_KEY'];
/** Environment variables holding a URI with possible credentials. */
const URI_ENV = ['MONGO_URI', 'MONGODB_URI', 'SYRF_PUSHGATEWAY_URL'];
/** Flags whose value is a URI with possible credentials. */
const URI_FLAGS = ['--uri', '--pushgateway', '--from', '--to'];

export function registerProcessSecrets(env: NodeJS.ProcessEnv, argv: readonly string[]): void {
  for (const name of SECRET_ENV) registerSecret(env[name]?.trim());
  for (const name of URI_ENV) registerUriSecrets(env[name]);
  argv.forEach((arg, i) => {
    for (const flag of URI_FLAGS) {
      if (arg === flag) registerUriSecrets(argv[i + 1]);
      else if (arg.startsWith(`${flag}=`)) registerUriSecrets(arg.slice(flag.length + 1));
    }
  });
}
