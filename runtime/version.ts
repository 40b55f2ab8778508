import { readFileSync } from 'node:fs';

function readVersion(): string {
  // Works from both the TypeScript sources (runtime/) and the build (dist/runtime/).
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'syrf-db-tools' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}

export const toolVersion = `syrf-db-tools ${readVersion()}`;
