import type { Command } from 'commander';
import { generateSigningKeyPair, PUBLIC_KEYS_ENV, SIGNING_KEY_ENV } from '../../snapshot/signature.js';

export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('manage the Ed25519 key pair that signs snapshot manifests');
  keys
    .command('generate')
    .description(`print a new key pair: the private key for the producer's Secret (${SIGNING_KEY_ENV}), the public key for restores (${PUBLIC_KEYS_ENV})`)
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const pair = generateSigningKeyPair();
      if (opts.json) {
        process.stdout.write(JSON.stringify({ keyId: pair.keyId, privateKey: pair.privateKey, publicKey: pair.publicKey }) + '\n');
        return;
      }
      process.stdout.write(
        [
          `# key id ${pair.keyId}`,
          `# private: only in the snapshot producer's Secret (production namespace)`,
          `${SIGNING_KEY_ENV}=${pair.privateKey}`,
          `# public: in every restore Job; during rotation list old and new, comma-separated`,
          `${PUBLIC_KEYS_ENV}=${pair.publicKey}`,
          '',
        ].join('\n'),
      );
    });
}
