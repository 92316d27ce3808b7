// Test page driver: one Pyodide worker (web/worker.mjs) and a small promise API on
// `window.harness`:
//
//   harness.ready                      Promise<{version, bootMs}> of the current worker
//   harness.run(code, {keep, timeoutMs}) Promise<value>; rejects with an Error whose message is
//                                      the Python traceback (err.errorType, err.stdout attached)
//   harness.runRaw(code, opts)         Promise<reply>: never rejects for Python errors; the
//                                      worker's full reply {ok, value | error, errorType, stdout}
//   harness.restartWorker()            terminate, start a new worker, wait until ready
//   harness.terminate()                terminate the worker (pending runs reject)
//
// Page query parameters `wheel`, `micropip` and `pyodide` are passed on to the worker.

const pageParams = new URL(location.href).searchParams;
const statusEl = document.getElementById("status");

function setStatus(text) {
  if (statusEl) statusEl.textContent = text;
}

function workerUrl() {
  const url = new URL("/worker.mjs", location.href);
  for (const name of ["wheel", "micropip", "pyodide"]) {
    const value = pageParams.get(name);
    if (value) url.searchParams.set(name, value);
  }
  return url.href;
}

let worker = null;
let ready = null;
let nextId = 1;
const pending = new Map(); // id -> {resolve, reject, timer}

function failPending(reason) {
  for (const [id, p] of pending) {
    clearTimeout(p.timer);
    p.reject(new Error(reason));
    pending.delete(id);
  }
}

function startWorker() {
  const w = new Worker(workerUrl(), { type: "module" });
  worker = w;
  setStatus("booting Pyodide…");
  ready = new Promise((resolve, reject) => {
    w.addEventListener("message", (event) => {
      const msg = event.data;
      if (msg.type === "ready") {
        setStatus(`ready: Pyodide ${msg.version}, boot ${Math.round(msg.bootMs)} ms`);
        resolve({ version: msg.version, bootMs: msg.bootMs });
      } else if (msg.type === "error") {
        setStatus(`boot failed: ${msg.error.split("\n")[0]}`);
        reject(new Error(`worker boot failed: ${msg.error}`));
      } else if (msg.type === "result") {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        clearTimeout(p.timer);
        p.resolve(msg);
      }
    });
    w.addEventListener("error", (event) => {
      const text = `worker error: ${event.message || "failed to load /worker.mjs"}`;
      setStatus(text);
      reject(new Error(text));
      if (worker === w) failPending(text);
    });
  });
  ready.catch(() => {}); // a boot failure is reported where `ready` is awaited
  return ready;
}

function runRaw(code, { keep = false, timeoutMs = 0 } = {}) {
  if (!worker) return Promise.reject(new Error("no worker (terminated)"));
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const entry = { resolve, reject, timer: undefined };
    if (timeoutMs > 0) {
      entry.timer = setTimeout(() => {
        pending.delete(id);
        const err = new Error(`Python run #${id} timed out after ${timeoutMs} ms (the worker is still busy)`);
        err.errorType = "Timeout";
        reject(err);
      }, timeoutMs);
    }
    pending.set(id, entry);
    worker.postMessage({ type: "run", id, code: String(code), keep: Boolean(keep) });
  });
}

async function run(code, opts = {}) {
  const reply = await runRaw(code, opts);
  if (reply.ok) return reply.value;
  const err = new Error(reply.error);
  err.errorType = reply.errorType;
  err.stdout = reply.stdout;
  throw err;
}

function terminate() {
  if (worker) {
    worker.terminate();
    worker = null;
  }
  failPending("worker terminated");
  setStatus("terminated");
}

async function restartWorker() {
  terminate();
  return startWorker();
}

startWorker();

Object.defineProperty(window, "harness", {
  value: Object.freeze({
    get ready() { return ready; },
    run,
    runRaw,
    restartWorker,
    terminate,
  }),
});
