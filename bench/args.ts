/** `npm run bench -- [options]`, parsed without side effects. */

export interface BenchArgs {
  /** Studies at the default scale; every other collection scales with it. */
  studies: number;
  /** Timed runs of each archive-to-archive measurement (cheap, noisy). */
  runs: number;
  /** Timed runs of each server measurement (slow on FerretDB). */
  serverRuns: number;
  /** Only the archive-to-archive measurements (no server needed). */
  filtersOnly: boolean;
  keepFiles: boolean;
  help: boolean;
}

export const DEFAULT_STUDIES = 20_000;
/** Uncompressed archive bytes per study, other collections included (measured on the generator). */
const BYTES_PER_STUDY = 3040;

export const USAGE = `usage: npm run bench -- [--scale N | --scale NMiB] [--runs N] [--server-runs N] [--filters-only] [--keep-files]

  --scale N        studies in the dataset (default ${DEFAULT_STUDIES}, about ${Math.round((DEFAULT_STUDIES * BYTES_PER_STUDY) / 2 ** 20)} MiB of BSON);
                   NMiB picks the study count for about N MiB; the memory check also runs at 4x
  --runs N         timed runs of each anonymize / pass-through / baseline measurement; medians are reported (default 5)
  --server-runs N  timed runs of each snapshot / restore / mongo-tools measurement (default 3)
  --filters-only   only anonymize / pass-through and their baselines (no MongoDB server)
  --keep-files     keep the generated archives and stores (their directory is printed)

  MONGODB_URI=...          measure against this server instead of a FerretDB the bench starts
  SYRF_MONGO_TOOLS_BIN=DIR where mongodump/mongorestore are (else PATH); without them those ratios are n/a`;

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { studies: DEFAULT_STUDIES, runs: 5, serverRuns: 3, filtersOnly: false, keepFiles: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return next;
    };
    switch (arg) {
      case '--scale':
        args.studies = parseScale(value());
        break;
      case '--runs':
        args.runs = positiveInteger(arg, value());
        break;
      case '--server-runs':
        args.serverRuns = positiveInteger(arg, value());
        break;
      case '--filters-only':
        args.filtersOnly = true;
        break;
      case '--keep-files':
        args.keepFiles = true;
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return args;
}

/** `20000` studies, or `64MiB` of uncompressed archive. */
export function parseScale(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(MiB|MB)?$/i.exec(text.trim());
  if (!match) throw new Error(`--scale must be a number of studies (e.g. 20000) or a size (e.g. 64MiB), got "${text}"`);
  const amount = Number(match[1]);
  const studies = match[2] ? Math.round((amount * 2 ** 20) / BYTES_PER_STUDY) : Math.round(amount);
  if (studies < 100) throw new Error(`--scale ${text} is too small: at least 100 studies are needed for stable numbers`);
  return studies;
}

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${text}"`);
  return n;
}
