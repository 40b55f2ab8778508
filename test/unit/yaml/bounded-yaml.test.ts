/**
 * Every YAML the project reads (the rules file, #preview-config blocks) is
 * parsed with bounds and exact lines. Each case here hung, crashed, lost a
 * key or pointed at the wrong line before.
 */
import { describe, expect, it } from 'vitest';
import { parseRules } from '../../../runtime/anonymize/rules.js';
import { parsePreviewConfig } from '../../../runtime/preview-config/parse.js';
import { UserError } from '../../../runtime/errors.js';

function errorOf(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}

const known = { knownCollections: ['pmProject', 'pmStudy'] };
const prBody = (block: string[]) => ['Some text', '', '```yaml', ...block, '```', ''].join('\n');

/** Nine levels of nine aliases each: 9^9 strings once expanded, ~430 bytes as text. */
function aliasBomb(): string[] {
  const lines = ['#preview-config', 'database:', '  source: seed', 'web:', '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const name = String.fromCharCode(97 + i);
    const prev = String.fromCharCode(96 + i);
    lines.push(`  ${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return lines;
}

describe('#preview-config YAML', () => {
  it('ends an alias bomb at once with a clear error on its line', () => {
    const body = prBody(aliasBomb());
    expect(body.length).toBeGreaterThan(400);
    expect(body.length).toBeLessThan(600);
    const error = errorOf(() => parsePreviewConfig(body, known));
    expect(error.message).toMatch(/PR description line \d+: ".*\*[a-h].*" — not valid YAML: more than 50 aliases/);
    expect(error.exitCode).toBe(2);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses a %s key, naming its line, instead of dropping it', (key) => {
    const body = prBody(['#preview-config', 'database:', '  source: seed', 'web:', `  ${key}:`, '    admin: true']);
    const error = errorOf(() => parsePreviewConfig(body, known));
    expect(error.message).toContain(`PR description line 8: "  ${key}:" — not valid YAML: "${key}" is not allowed as a key`);
  });

  it('refuses a config block larger than 64 KiB', () => {
    const filler = Array.from({ length: 3000 }, (_, i) => `  k${i}: "${'x'.repeat(20)}"`);
    const error = errorOf(() => parsePreviewConfig(prBody(['#preview-config', 'web:', ...filler]), known));
    expect(error.message).toMatch(/not valid YAML: the YAML is \d+ bytes long; at most 65536 are accepted/);
  });

  it('refuses deep nesting with a clear error', () => {
    const error = errorOf(() => parsePreviewConfig(prBody(['#preview-config', `web: ${'['.repeat(60_000)}`]), known));
    expect(error.message).toMatch(/nested more than 64 levels deep/);
  });

  it('refuses a complex (non-name) key', () => {
    const error = errorOf(() => parsePreviewConfig(prBody(['#preview-config', 'web:', '  ? [a, b]', '  : 1']), known));
    expect(error.message).toContain('PR description line 6: "  ? [a, b]" — not valid YAML: a mapping key must be a plain name');
  });

  it('points at the right line of an explicit "? key" entry', () => {
    const body = prBody(['#preview-config', 'database:', '  ? source', '  : nowhere']);
    const error = errorOf(() => parsePreviewConfig(body, known));
    expect(error.message).toContain('PR description line 6: "  ? source" — source must be one of seed, snapshot, staging');
  });
});

describe('rules file YAML', () => {
  const head = ['version: 1', 'rules:', '  pmInvestigator:', '    fields:'];

  it('names the line of an explicit "? key" entry, not a neighbour', () => {
    const text = [...head, '      Email: { transform: hash_email }', '      ? FirstName', '      : { transform: no_such_transform }', '      ? LastName', '      : 12'].join('\n');
    const error = errorOf(() => parseRules(text, 'rules.yaml'));
    expect(error.message).toMatch(/\n {2}rules\.yaml:7: rules\.pmInvestigator\.fields\.FirstName\.transform: /);
    expect(error.message).toMatch(/\n {2}rules\.yaml:8: rules\.pmInvestigator\.fields\.LastName: /);
  });

  it('ends an alias bomb at once', () => {
    const bomb = aliasBomb().slice(4).map((l) => l.replace(/^ {2}/, '  x'));
    const text = ['version: 1', 'size_limits:', ...bomb.map((l) => l)].join('\n');
    const error = errorOf(() => parseRules(text, 'rules.yaml'));
    expect(error.message).toMatch(/^rules\.yaml:\d+: not valid YAML: more than 50 aliases/);
  });

  it('refuses __proto__ as a collection name instead of dropping its rules', () => {
    const text = ['version: 1', 'rules:', '  __proto__:', '    fields:', '      Email: { transform: hash_email }'].join('\n');
    const error = errorOf(() => parseRules(text, 'rules.yaml'));
    expect(error.message).toBe('rules.yaml:3: not valid YAML: "__proto__" is not allowed as a key');
  });

  it('refuses a rules file over 1 MiB', () => {
    const text = [...head, ...Array.from({ length: 40_000 }, (_, i) => `      F${i}: { transform: hash_email }`)].join('\n');
    const error = errorOf(() => parseRules(text, 'rules.yaml'));
    expect(error.message).toMatch(/^rules\.yaml:1: not valid YAML: the YAML is \d+ bytes long; at most 1048576 are accepted/);
  });

  it('loads a large mapping in linear time (the parser\'s own duplicate-key check was quadratic: 60 000 keys ran for minutes)', { timeout: 120_000 }, () => {
    const many = Array.from({ length: 30_000 }, (_, i) => `  k${i}: v`).join('\n');
    const error = errorOf(() => parseRules(`version: 1\nexclusions:\n${many}`, 'rules.yaml'));
    // Parsed completely: the complaint is about the shape (a mapping where a list belongs), not a timeout.
    expect(error.message).toMatch(/exclusions/);
    const duplicate = errorOf(() => parseRules(`version: 1\nexclusions:\n${many}\n  k7: v`, 'rules.yaml'));
    expect(duplicate.message).toBe('rules.yaml:30003: not valid YAML: duplicated mapping key (each key may appear once)');
  });

  it('reports a duplicated key on its line', () => {
    const text = [...head, '      Email: { transform: hash_email }', '      Email: { transform: hash }'].join('\n');
    expect(errorOf(() => parseRules(text, 'rules.yaml')).message).toBe('rules.yaml:6: not valid YAML: duplicated mapping key (each key may appear once)');
  });
});
