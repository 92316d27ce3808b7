// Benchmark page: starts dedicated module workers and relays requests to them for the host
// driver (pyodide_opfs/bench/runner.py). Nothing is measured here: every timing is taken inside
// the worker that does the work.
//
//   bench.spawn(url, timeoutMs)          -> {wid, ready}   (waits for the worker's "ready" message)
//   bench.request(wid, msg, timeoutMs)   -> the worker's {type: "result", id, ok, value|error} reply
//   bench.terminate(wid)
//   bench.clearStorage(timeoutMs)        -> {removed, idb}  every OPFS entry and IndexedDB database
//   bench.opfsEntries()                  -> names at the OPFS root
//
// Worker protocol (web/worker.mjs for Pyodide, and web/bench/*_worker.mjs): the worker posts
// {type: "ready", ...} or {type: "error", error} once; requests carry an `id`; replies are
// {type: "result", id, ok, value | error}.

const statusEl = document.getElementById("status");
const workers = new Map(); // wid -> {worker, pending: Map(id -> {resolve, reject, timer})}
let nextWid = 1;
let nextId = 1;

function status(text) {
  if (statusEl) statusEl.textContent = text;
}

function failAll(entry, reason) {
  for (const [id, p] of entry.pending) {
    clearTimeout(p.timer);
    p.reject(new Error(reason));
    entry.pending.delete(id);
  }
}

function spawn(url, timeoutMs = 120000) {
  const wid = nextWid++;
  const worker = new Worker(new URL(url, location.href), { type: "module" });
  const entry = { worker, pending: new Map() };
  workers.set(wid, entry);
  status(`worker ${wid}: starting ${url}`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${url} not ready after ${timeoutMs} ms`)), timeoutMs);
    worker.addEventListener("message", (event) => {
      const msg = event.data;
      if (msg.type === "ready") {
        clearTimeout(timer);
        status(`worker ${wid}: ready`);
        resolve({ wid, ready: msg });
      } else if (msg.type === "error") {
        clearTimeout(timer);
        reject(new Error(`worker ${url} failed to start: ${msg.error}`));
      } else if (msg.type === "result") {
        const p = entry.pending.get(msg.id);
        if (!p) return;
        entry.pending.delete(msg.id);
        clearTimeout(p.timer);
        p.resolve(msg);
      }
    });
    worker.addEventListener("error", (event) => {
      const text = `worker ${url} error: ${event.message || "failed to load"}`;
      clearTimeout(timer);
      reject(new Error(text));
      failAll(entry, text);
    });
  });
}

function request(wid, msg, timeoutMs = 0) {
  const entry = workers.get(wid);
  if (!entry) return Promise.reject(new Error(`no worker ${wid}`));
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const p = { resolve, reject, timer: undefined };
    if (timeoutMs > 0) {
      p.timer = setTimeout(() => {
        entry.pending.delete(id);
        reject(new Error(`request ${id} to worker ${wid} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    }
    entry.pending.set(id, p);
    entry.worker.postMessage({ ...msg, id });
  });
}

function terminate(wid) {
  const entry = workers.get(wid);
  if (!entry) return;
  entry.worker.terminate();
  failAll(entry, "worker terminated");
  workers.delete(wid);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Remove every OPFS entry at the root and every IndexedDB database; retries while a
 * terminated worker still holds handles (up to timeoutMs). */
async function clearStorage(timeoutMs = 10000) {
  const deadline = performance.now() + timeoutMs;
  const root = await navigator.storage.getDirectory();
  const removed = [];
  for (;;) {
    const left = [];
    for await (const name of root.keys()) left.push(name);
    let busy = null;
    for (const name of left) {
      try {
        await root.removeEntry(name, { recursive: true });
        removed.push(name);
      } catch (e) {
        busy = `${name}: ${e.name}: ${e.message}`;
      }
    }
    if (!busy) break;
    if (performance.now() > deadline) throw new Error(`could not clear OPFS: ${busy}`);
    await sleep(100);
  }
  const idb = [];
  for (const { name } of await indexedDB.databases()) {
    await new Promise((resolve) => {
      const req = indexedDB.deleteDatabase(name);
      req.onsuccess = req.onerror = req.onblocked = () => resolve();
    });
    idb.push(name);
  }
  return { removed, idb };
}

async function opfsEntries() {
  const root = await navigator.storage.getDirectory();
  const names = [];
  for await (const name of root.keys()) names.push(name);
  return names;
}

Object.defineProperty(window, "bench", {
  value: Object.freeze({ spawn, request, terminate, clearStorage, opfsEntries }),
});
status("ready");
