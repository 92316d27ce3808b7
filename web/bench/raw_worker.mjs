// The floor: a plain JS loop over one FileSystemSyncAccessHandle, no filesystem layer and no
// WASM heap in between. Same sizes and access patterns as the F1/F2 workloads of
// pyodide_opfs/bench/inworker.py; "floor" is the cheapest durable commit (one 4 KiB write and
// one flush). Driven through common.mjs's serve() protocol.

import { now, parkMiller, removeOpfsEntry, serve } from "/bench/common.mjs";

let dir = null;
let dirName = null;

async function handle(name) {
  const file = await dir.getFileHandle(name, { create: true });
  return file.createSyncAccessHandle();
}

function quantiles(times) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

function pattern(size) {
  const buf = new Uint8Array(size);
  for (let i = 0; i < size; i++) buf[i] = (i * 31 + 7) & 0xff;
  return buf;
}

const fns = {
  async open({ tag }) {
    dirName = `bench-${tag}`;
    const root = await navigator.storage.getDirectory();
    dir = await root.getDirectoryHandle(dirName, { create: true });
    return null;
  },

  /** n durable appends: 4 KiB write + flush each (what one commit costs at the least); in slices,
   * `start` = appends so far. */
  async floor({ n, start = 0, times_out = false }) {
    const sah = await handle("floor.bin");
    const page = pattern(4096);
    const times = new Float64Array(n);
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const t = now();
      sah.write(page, { at: (start + i) * 4096 });
      sah.flush();
      times[i] = now() - t;
    }
    const total = now() - t0;
    sah.close();
    return { n, total_ms: total, ...quantiles(times), ...(times_out ? { times: Array.from(times) } : {}) };
  },

  /** Sequential `chunk`-byte writes of `bytes` bytes + one flush, then reads of it all. */
  async f1({ bytes, chunk = 65536 }) {
    const sah = await handle("f1.bin");
    const buf = pattern(chunk);
    let t0 = now();
    for (let at = 0; at < bytes; at += chunk) {
      if (sah.write(buf, { at }) !== chunk) throw new Error("short write");
    }
    sah.flush();
    const write = now() - t0;
    const into = new Uint8Array(chunk);
    let total = 0;
    t0 = now();
    for (let at = 0; at < bytes; at += chunk) total += sah.read(into, { at });
    const read = now() - t0;
    if (total !== bytes) throw new Error(`read ${total} of ${bytes} bytes`);
    sah.close();
    await dir.removeEntry("f1.bin");
    return { bytes, write_ms: write, read_ms: read };
  },

  /** Read one file at several chunk sizes (best of 3 each): {chunk, ms, calls, us_per_call}. */
  async read_sweep({ bytes, chunks }) {
    const sah = await handle("sweep.bin");
    const block = pattern(1 << 20);
    for (let at = 0; at < bytes; at += block.length) sah.write(block, { at });
    sah.flush();
    const out = [];
    for (const chunk of chunks) {
      const into = new Uint8Array(chunk);
      let best = Infinity;
      for (let r = 0; r < 3; r++) {
        const t0 = now();
        let total = 0;
        for (let at = 0; at < bytes; at += chunk) total += sah.read(into, { at });
        best = Math.min(best, now() - t0);
        if (total !== bytes) throw new Error(`read ${total} of ${bytes}`);
      }
      out.push({ chunk, ms: best, calls: bytes / chunk, us_per_call: (1000 * best) / (bytes / chunk) });
    }
    sah.close();
    await dir.removeEntry("sweep.bin");
    return out;
  },

  /** n random 4 KiB-aligned writes, each flushed, into a `file_bytes` file. */
  async f2({ n, file_bytes: fileBytes }) {
    const sah = await handle("f2.bin");
    const block = pattern(65536);
    for (let at = 0; at < fileBytes; at += block.length) sah.write(block, { at });
    sah.flush();
    const page = pattern(4096);
    const blocks = fileBytes / 4096;
    const rnd = parkMiller(7);
    const times = new Float64Array(n);
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const t = now();
      sah.write(page, { at: (rnd.next().value % blocks) * 4096 });
      sah.flush();
      times[i] = now() - t;
    }
    const total = now() - t0;
    sah.close();
    await dir.removeEntry("f2.bin");
    return { n, total_ms: total, ...quantiles(times) };
  },

  async close() {
    if (dirName) await removeOpfsEntry(dirName);
    dir = dirName = null;
    return null;
  },
};

serve(fns, async () => ({ userAgent: navigator.userAgent }));
