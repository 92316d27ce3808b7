// The demo app's worker: boots Pyodide, installs micropip and the pyodide-opfs wheel, loads
// the app's Python side (backend.py) and answers the page's requests one at a time.
//
//   new Worker("/app/worker.mjs?wheel=/wheels/pyodide_opfs-….whl", {type: "module"})
//
// Messages out:
//   {type: "env", facts}                       what this worker scope offers (sent first)
//   {type: "stage", text}                      boot progress, for the status line
//   {type: "ready", version, bootMs} | {type: "fatal", kind, error}
//   {type: "stdout", id, text, stream}         Python output of request `id`, line by line
//   {type: "progress", id, done, total}        import progress
//   {type: "reply", id, ok, value} | {type: "reply", id, ok: false, errorType, error}
// Messages in:
//   {type: "call", id, op, args}               op: a name from backend.py's OPS

const MICROPIP_DEFAULT = "/wheels/micropip-0.11.1-py3-none-any.whl";
const params = new URL(import.meta.url).searchParams;
const wheelUrl = params.get("wheel");
const micropipUrl = params.get("micropip") || MICROPIP_DEFAULT;

let currentId = null; // the request whose Python output is being printed

function stage(text) {
  postMessage({ type: "stage", text });
}

function envFacts() {
  const handle = globalThis.FileSystemFileHandle;
  return {
    secureContext: Boolean(globalThis.isSecureContext),
    crossOriginIsolated: Boolean(globalThis.crossOriginIsolated),
    sharedArrayBuffer: typeof SharedArrayBuffer === "function",
    opfs: Boolean(globalThis.navigator?.storage?.getDirectory),
    syncAccessHandle: Boolean(handle && "createSyncAccessHandle" in handle.prototype),
    userAgent: navigator.userAgent,
  };
}

class BootError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

async function boot() {
  const t0 = performance.now();
  stage("loading Pyodide…");
  let loadPyodide;
  try {
    ({ loadPyodide } = await import("/pyodide/pyodide.mjs"));
  } catch (err) {
    throw new BootError("pyodide-missing", `could not load /pyodide/pyodide.mjs: ${err.message || err}`);
  }
  const output = (stream) => (text) => {
    if (currentId !== null) postMessage({ type: "stdout", id: currentId, text, stream });
    else console.log(`[py:${stream}]`, text);
  };
  const pyodide = await loadPyodide({
    indexURL: "/pyodide/",
    stdout: output("stdout"),
    stderr: output("stderr"),
  });

  stage("installing micropip…");
  const loadErrors = [];
  await pyodide.loadPackage(micropipUrl, {
    messageCallback: () => {},
    errorCallback: (m) => loadErrors.push(m),
  });
  if (loadErrors.length) {
    throw new BootError("micropip", `loading micropip from ${micropipUrl} failed: ${loadErrors.join("; ")}`);
  }
  if (!wheelUrl) throw new BootError("wheel", "no wheel URL given to the worker");
  stage("installing pyodide-opfs…");
  const micropip = pyodide.pyimport("micropip");
  try {
    await micropip.install(new URL(wheelUrl, self.location.href).href);
  } catch (err) {
    throw new BootError("wheel", `installing ${wheelUrl} failed: ${err.message || err}`);
  } finally {
    micropip.destroy();
  }

  const response = await fetch(new URL("./backend.py", import.meta.url));
  if (!response.ok) throw new BootError("app", `could not load backend.py (HTTP ${response.status})`);
  const ns = pyodide.globals.get("dict")();
  ns.set("__name__", "app_backend");
  await pyodide.runPythonAsync(await response.text(), { globals: ns });
  const dispatch = ns.get("dispatch");
  return { pyodide, dispatch, bootMs: performance.now() - t0 };
}

const booted = boot();
postMessage({ type: "env", facts: envFacts() });
booted.then(
  ({ pyodide, bootMs }) => postMessage({ type: "ready", version: pyodide.version, bootMs }),
  (err) => postMessage({ type: "fatal", kind: err.kind || "boot", error: String(err.message || err) }),
);

function transferables(value) {
  return value && ArrayBuffer.isView(value.data) ? [value.data.buffer] : [];
}

async function handle(msg) {
  const { dispatch } = await booted;
  const progress = (done, total) => postMessage({ type: "progress", id: msg.id, done, total });
  currentId = msg.id;
  try {
    // dispatch never raises: it returns {ok, value} or {ok: false, errorType, error}.
    const reply = await dispatch(msg.op, msg.args || [], progress);
    postMessage({ type: "reply", id: msg.id, ...reply }, transferables(reply.value));
  } finally {
    currentId = null;
  }
}

let queue = Promise.resolve();
self.addEventListener("message", (event) => {
  const msg = event.data;
  if (!msg || msg.type !== "call") return;
  queue = queue.then(() => handle(msg)).catch((err) => {
    postMessage({ type: "reply", id: msg.id, ok: false, errorType: "WorkerError", error: String(err.message || err) });
  });
});
