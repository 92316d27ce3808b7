// Shared by the benchmark's JS workers: the worker message protocol and the workload data,
// which must match pyodide_opfs/bench/inworker.py exactly (same rows, same random ids).

/** Row i of every table: k and v. v is 40 ASCII characters. */
export function rowK(i) {
  return (i * 7919) % 1000003;
}

const DASHES = "-".repeat(29);
export function rowV(i) {
  return "v" + String(i).padStart(10, "0") + DASHES;
}

/** Park-Miller minimal standard generator (exact in doubles): the W3 ids and F2 offsets. */
export function* parkMiller(seed = 42) {
  let x = seed;
  for (;;) {
    x = (x * 48271) % 2147483647;
    yield x;
  }
}

export const now = () => performance.now();

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Remove `name` under the OPFS root (recursively), retrying while a handle is still open. */
export async function removeOpfsEntry(name, timeoutMs = 5000) {
  const root = await navigator.storage.getDirectory();
  const deadline = now() + timeoutMs;
  for (;;) {
    try {
      await root.removeEntry(name, { recursive: true });
      return;
    } catch (e) {
      if (e.name === "NotFoundError") return;
      if (now() > deadline) throw e;
      await sleep(50);
    }
  }
}

/**
 * Answer {type: "call", id, fn, args} messages with {type: "result", id, ok, value | error},
 * one call at a time, and post {type: "ready", ...info} once `init()` resolves.
 */
export function serve(fns, init) {
  let queue = Promise.resolve();
  self.addEventListener("message", (event) => {
    const msg = event.data;
    if (!msg || msg.type !== "call") return;
    queue = queue.then(async () => {
      let reply;
      try {
        const fn = fns[msg.fn];
        if (!fn) throw new Error(`unknown function ${msg.fn}`);
        reply = { type: "result", id: msg.id, ok: true, value: await fn(msg.args ?? {}) };
      } catch (e) {
        reply = { type: "result", id: msg.id, ok: false, error: `${e?.name ?? "Error"}: ${e?.message ?? e}\n${e?.stack ?? ""}` };
      }
      postMessage(reply);
    });
  });
  Promise.resolve()
    .then(init)
    .then(
      (info) => postMessage({ type: "ready", ...(info ?? {}) }),
      (e) => postMessage({ type: "error", error: `${e?.name ?? "Error"}: ${e?.message ?? e}` }),
    );
}
