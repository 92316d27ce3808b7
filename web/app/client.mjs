// The page's side of web/app/worker.mjs: start it, wait for it to boot, and call its ops.
//
//   const client = new WorkerClient(url, {onStage, onEnv, onFatal});
//   const {version, bootMs} = await client.ready;
//   const value = await client.call("listing");          // rejects with an OpError
//   await client.call("run", [code], {onStdout: (text, stream) => …});
//   await client.call("import_file", [file, name], {onProgress: (done, total) => …});

export class OpError extends Error {
  constructor(reply) {
    super(reply.error || "operation failed");
    this.errorType = reply.errorType || "Error";
    this.traceback = reply.traceback || "";
    this.hint = reply.hint || "";
    this.errno = reply.errno;
  }
}

export class WorkerClient {
  constructor(url, { onStage = () => {}, onEnv = () => {}, onFatal = () => {} } = {}) {
    this.pending = new Map(); // id -> {resolve, reject, onStdout, onProgress}
    this.nextId = 1;
    this.env = null;
    this.worker = new Worker(url, { type: "module" });
    this.ready = new Promise((resolve, reject) => {
      this.worker.addEventListener("message", (event) => {
        const msg = event.data;
        switch (msg.type) {
          case "env":
            this.env = msg.facts;
            onEnv(msg.facts);
            break;
          case "stage":
            onStage(msg.text);
            break;
          case "ready":
            resolve({ version: msg.version, bootMs: msg.bootMs });
            break;
          case "fatal": {
            const err = Object.assign(new Error(msg.error), { kind: msg.kind });
            onFatal(err);
            reject(err);
            break;
          }
          default:
            this.#route(msg);
        }
      });
      this.worker.addEventListener("error", (event) => {
        event.preventDefault();
        const err = Object.assign(new Error(event.message || "the worker failed to start"), {
          kind: this.env ? "worker-crash" : "worker-start",
        });
        onFatal(err);
        reject(err);
        this.#failAll(err);
      });
    });
    this.ready.catch(() => {});
  }

  /** Requests sent and not yet answered. */
  get busy() {
    return this.pending.size;
  }

  call(op, args = [], { onStdout, onProgress } = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onStdout, onProgress });
      this.worker.postMessage({ type: "call", id, op, args });
    });
  }

  terminate() {
    this.worker.terminate();
    this.#failAll(new Error("worker terminated"));
  }

  #route(msg) {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === "stdout") {
      p.onStdout?.(msg.text, msg.stream);
    } else if (msg.type === "progress") {
      p.onProgress?.(msg.done, msg.total);
    } else if (msg.type === "reply") {
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new OpError(msg));
    }
  }

  #failAll(err) {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
