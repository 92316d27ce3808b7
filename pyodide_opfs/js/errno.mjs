// @ts-check
// Errors that leave the filesystem. Only an errno crosses Emscripten's syscall layer (Python then
// raises OSError(errno)), so every mapping from an OPFS failure to an errno lives in this table.
// Codes are Emscripten's (WASI numbering), looked up by name from Module.ERRNO_CODES.

/** @typedef {import("./types").Errors} Errors */
/** DOMException name -> errno name. */
export const DOM_EXCEPTION_ERRNO = {
  NotFoundError: "ENOENT",
  TypeMismatchError: "ENOTDIR",
  InvalidModificationError: "ENOTEMPTY",
  NoModificationAllowedError: "EBUSY",
  QuotaExceededError: "ENOSPC",
  NotAllowedError: "EACCES",
  SecurityError: "EACCES",
  InvalidStateError: "EIO",
  TypeError: "EINVAL",
  RangeError: "ENAMETOOLONG",
};

/** @implements {Errors} */
export class ErrnoFactory {
  /**
   * @param {import("./types").EmscriptenFS} FS
   * @param {Record<string, number>} codes
   */
  constructor(FS, codes) {
    this.FS = FS;
    this.codes = codes;
    /** @type {import("./types").LastError | null} */
    this.lastError = null; // {errno, message}: the hint an errno cannot carry (read from Python)
  }

  /**
   * A new FS.ErrnoError for an errno name; `message` is kept as the last error and logged.
   * @param {string} name
   * @param {string} [message]
   */
  error(name, message = "") {
    const errno = this.codes[name];
    if (errno === undefined) throw new Error(`unknown errno name ${name}`);
    if (message) {
      this.lastError = { errno: name, message };
      console.warn(`pyodide_opfs: ${name}: ${message}`);
    }
    return new this.FS.ErrnoError(errno);
  }

  /**
   * Map anything thrown by an OPFS call to FS.ErrnoError (ErrnoErrors pass through).
   * @param {any} e
   * @param {string} [context]
   */
  fromException(e, context = "") {
    if (e && e.name === "ErrnoError") return e;
    const name = DOM_EXCEPTION_ERRNO[e?.name] ?? "EIO";
    return this.error(name, `${context}${context ? ": " : ""}${e?.name ?? "Error"}: ${e?.message ?? e}`);
  }
}
