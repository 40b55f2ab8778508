// The names runtime/ and infra/ share; test/unit/contract.test.ts proves both sides use them.
export * from './databases.js';
export * from './snapshots.js';
export * from './environment.js';
export * from './commands.js';
