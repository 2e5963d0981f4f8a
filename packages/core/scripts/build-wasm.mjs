// Compiles src/**/*.wat to WebAssembly next to the compiled JavaScript in dist/ (part of
// `pnpm build`): dist/sync/chunking/gear.wasm from src/sync/chunking/gear.wat.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import initWabt from 'wabt';

const root = fileURLToPath(new URL('..', import.meta.url));
const wabt = await initWabt();
const sources = (await readdir(path.join(root, 'src'), { recursive: true })).filter((f) =>
  f.endsWith('.wat'),
);
for (const source of sources) {
  const module = wabt.parseWat(source, await readFile(path.join(root, 'src', source), 'utf8'));
  try {
    module.validate();
    const out = path.join(root, 'dist', source.replace(/\.wat$/, '.wasm'));
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
