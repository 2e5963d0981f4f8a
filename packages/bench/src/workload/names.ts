import type { PageKind } from './page-content.js';
import type { Rng } from './rng.js';

/** Per-process CRIU images: `<prefix>-<pid>.img`. */
export const PROCESS_FILE_PREFIXES = ['mm', 'ids', 'fs', 'sigacts', 'pagemap', 'fdinfo'] as const;

/** Per-thread CRIU image: `core-<tid>.img`. */
export const THREAD_FILE_PREFIX = 'core';

/** Images of the whole tree, plus the files a model switcher (llmux) writes beside them. */
export const SHARED_SMALL_FILES = [
  'inventory.img',
  'pstree.img',
  'files.img',
  'reg-files.img',
  'stats-dump',
  'cuda_pids',
  'parent_pid',
  'seccomp.img',
  'cgroup.img',
  'mountpoints-12.img',
  'netns-10.img',
  'utsns-11.img',
  'ipcns-var-13.img',
  'tty-info.img',
];

/** An image CRIU writes empty when there is nothing to save (no buffered tty data). */
export const EMPTY_SMALL_FILE = 'tty-data.img';

/** An id (pid or tid) in the Linux default range, not in `used`; it is added to `used`. */
export function newId(rng: Rng, used: Set<number>): number {
  for (;;) {
    const id = 300 + rng.int(4_194_304 - 300);
    if (!used.has(id)) {
      used.add(id);
      return id;
    }
  }
}

const hex = (rng: Rng, length: number) => Array.from({ length }, () => rng.int(16).toString(16)).join('');
const OPS = [
  'batch_decode',
  'batch_prefill',
  'norm',
  'rope',
  'sampling',
  'page',
  'activation',
  'quantization',
];
const KERNELS = ['triton_poi_fused', 'triton_red_fused', 'triton_per_fused', '_fwd_kernel', 'matmul_kernel'];

/** Names of the medium files: one `pipes-data.img`, a few tmpfs archives, the rest ghost files. */
export function mediumFileNames(rng: Rng, count: number): { path: string; kind: PageKind }[] {
  const out: { path: string; kind: PageKind }[] = [];
  if (count > 0) out.push({ path: 'pipes-data.img', kind: 'text' });
  const tmpfs = count > 1 ? Math.max(1, Math.round(count / 10)) : 0;
  let mount = 20 + rng.int(200);
  for (let i = 0; i < tmpfs; i++) {
    mount += 1 + rng.int(9);
    out.push({ path: `tmpfs-dev-${mount}.tar.gz.img`, kind: 'random' });
  }
  let ghost = 1 + rng.int(16);
  while (out.length < count) {
    ghost += 1 + rng.int(5);
    out.push({ path: `ghost-file-${ghost.toString(16)}.img`, kind: rng.next() < 0.5 ? 'random' : 'text' });
  }
  return out;
}

/**
 * Paths of a nested `rootfs/` tree of compiled-kernel caches (triton, flashinfer, torch inductor,
 * vLLM), several levels deep. The first path is an empty `__init__.py`.
 */
export function rootfsFileNames(rng: Rng, count: number): { path: string; kind: PageKind | 'empty' }[] {
  const flashinfer = 'rootfs/root/.cache/flashinfer/0.2.5/90/cached_ops';
  const out: { path: string; kind: PageKind | 'empty' }[] = [];
  const seen = new Set<string>();
  const add = (path: string, kind: PageKind | 'empty') => {
    if (out.length < count && !seen.has(path)) {
      seen.add(path);
      out.push({ path, kind });
    }
  };
  add(`${flashinfer}/__init__.py`, 'empty');
  while (out.length < count) {
    const which = rng.int(4);
    if (which === 0) {
      const dir = `rootfs/root/.triton/cache/${hex(rng, 32)}`;
      const kernel = `${KERNELS[rng.int(KERNELS.length)]}_${rng.int(100)}`;
      add(`${dir}/${kernel}.cubin`, 'random');
      add(`${dir}/${kernel}.json`, 'text');
    } else if (which === 1) {
      const op = `${OPS[rng.int(OPS.length)]}_${hex(rng, 6)}`;
      add(`${flashinfer}/${op}/${op}.so`, 'random');
    } else if (which === 2) {
      add(`rootfs/tmp/torchinductor_root/${hex(rng, 2)}/c${hex(rng, 24)}.py`, 'text');
    } else {
      const dir = `rootfs/root/.cache/vllm/torch_compile_cache/${hex(rng, 10)}/rank_0_0/backbone`;
      add(`${dir}/inductor_cache/${hex(rng, 2)}/c${hex(rng, 20)}.bin`, 'random');
    }
  }
  return out;
}
