// The engine loads a TypeScript pack with ts-node's CommonJS hooks and `require()`s this
// file. The pack itself is ES modules sharing the repository's contract, so this entry
// installs tsx's ESM loader, imports the pack, and hands the engine the promise to await.
module.exports = import('tsx/esm/api').then(({ register }) => {
  register();
  return import('./index.js');
});
