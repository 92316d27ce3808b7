// Types of the JS modules pyodide_opfs ships and of the objects that cross between Python and
// JS. Every .mjs that starts with `// @ts-check` is checked against these declarations by
// `tsc --noEmit` (see tsconfig.json at the repository root), so code and types cannot drift.

// ---------------------------------------------------------------------------- Emscripten

/** The parts of Emscripten's FS object (`pyodide.FS`) the glue uses. */
export interface EmscriptenFS {
  createNode(parent: FSNode | null, name: string, mode: number, dev: number): FSNode;
  lookupNode(parent: FSNode, name: string): FSNode;
  hashRemoveNode(node: FSNode): void;
  mount(type: FilesystemType, opts: object, mountpoint: string): FSNode;
  unmount(mountpoint: string): void;
  mkdirTree(path: string, mode?: number): void;
  ErrnoError: new (errno: number) => ErrnoError;
}

/** What an FS operation throws; only `errno` crosses the syscall layer into Python. */
export interface ErrnoError {
  name: "ErrnoError";
  errno: number;
}

export interface FSNode {
  id: number;
  name: string;
  mode: number;
  atime: number;
  mtime: number;
  ctime: number;
  parent: FSNode;
  node_ops: object;
  stream_ops: object;
}

export interface FSStream {
  node: FSNode;
  position: number;
  /** Ours: the backend file this stream reads and writes. */
  file: FileObject | null;
}

/** Node attributes as Emscripten's stat() expects them. */
export interface Attributes {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
  blksize: number;
  blocks: number;
}

/** A filesystem type for FS.mount(). */
export interface FilesystemType {
  mount(mount: object): FSNode;
}

/** What Python passes to the JS side: the FS and errno table of this Pyodide instance. */
export interface FsEnv {
  FS: EmscriptenFS;
  ERRNO_CODES: Record<string, number>;
  /** setattr() gets one `timestamp` instead of atime/mtime/ctime (Pyodide 0.27's Emscripten). */
  setattrTimestamp?: boolean;
}

// ---------------------------------------------------------------------------- backends

/** How the flush policy tells SQLite's files apart (by name). */
export type FileKind = "journal" | "wal" | "file";

/** A backend's open file, as the FS glue and the flush policy see it. */
export interface FileObject {
  readonly path: string;
  readonly kind: FileKind;
  readonly size: number;
  readonly mtime: number;
  /** Read into `view` (a view of the WASM heap) at data offset `pos`; returns bytes read. */
  read(view: Uint8Array | Int8Array, pos: number): number;
  /** Write `view` at data offset `pos`; returns bytes written (short = quota exceeded). */
  write(view: Uint8Array | Int8Array, pos: number): number;
  flush(): void;
}

export interface Stat {
  kind: "file" | "dir";
  size: number;
  mtime: number;
}

/** The path-based interface the Emscripten glue drives (paths relative to the mount). */
export interface Backend {
  stat(path: string): Stat | null;
  list(path: string): string[];
  createFile(path: string): FileObject;
  openFile(path: string): FileObject;
  retain(file: FileObject): void;
  closeFile(file: FileObject): void;
  mkdir(path: string): void;
  rmdir(path: string): void;
  unlink(path: string): void;
  rename(from: string, to: string): void;
  truncate(file: FileObject, size: number): void;
  /** os.utime(), where the backend can keep a time (in memory). */
  setMtime?(path: string, mtime: number): void;
}

/** The durability rules (flush_policy.mjs): callers report events, the policy flushes. */
export interface DurabilityPolicy {
  beforeWrite(file: FileObject): void;
  afterWrite(file: FileObject, view: Uint8Array | Int8Array, pos: number): void;
  beforeTruncate(file: FileObject, newSize: number, oldSize: number): void;
  afterTruncate(file: FileObject, newSize: number, oldSize: number): void;
  onClose(file: FileObject): void;
  onFsync(file: FileObject): void;
  beforeMetadata(): void;
  metadataWritten(file: FileObject): void;
  created(file: FileObject): void;
  forget(file: FileObject): void;
  flushAll(): void;
}

/** Maps failures to FS.ErrnoError (errno.mjs). */
export interface Errors {
  lastError: LastError | null;
  error(name: string, message?: string): ErrnoError;
  fromException(e: unknown, context?: string): ErrnoError;
}

// ---------------------------------------------------------------------------- pool format

export interface DecodedHeader {
  state: "used" | "free" | "bad";
  path: string;
  flags: number;
  sequence: number;
  reason: string;
}

// ---------------------------------------------------------------------------- Python <-> JS

/** One opened pool file, as Python hands it over (PoolMount constructor, addFiles, unpause). */
export interface PoolFile {
  name: string;
  sah: FileSystemSyncAccessHandle;
  mtime: number;
}

/** A pool file taken out of the pool (Python closes the handle and deletes the file). */
export interface TakenFile {
  name: string;
  sah: FileSystemSyncAccessHandle;
}

export interface QuarantinedSlot {
  name: string;
  reason: string;
  path: string;
}

export interface SlotStats {
  name: string;
  path: string;
  writes: number;
  flushes: number;
  unflushed: boolean;
}

export interface TraceEvent {
  op: "write" | "truncate" | "flush" | "header";
  path: string;
  othersUnflushed: string[];
}

export interface LastError {
  errno: string;
  message: string;
}

/** What `pyodide_opfs.proxy.mount_proxy` passes to ProxyController.start (proxy_mount.mjs). */
export interface ProxyStartOptions {
  /** URL of the proxy worker module (a blob: URL of the shipped copy, or `proxy_uri`). */
  workerUrl: string;
  /** OPFS directory mounted ("" = the origin's OPFS root). */
  root: string;
  mountpoint: string;
  /** Longest wait for one answer from the proxy, then EIO. */
  timeoutMs: number;
  /** How long the proxy retries a file another context holds, then EBUSY. */
  busyTimeoutMs: number;
  /** How long a closed file's handle stays open in the proxy. */
  releaseDelayMs: number;
  /** Bytes of the shared data buffer. */
  dataBytes: number;
}

/** The controller `pyodide_opfs.sahpool.SAHPool` drives (pool_mount.mjs). */
export interface PoolMountAPI {
  readonly mountpoint: string;
  readonly capacity: number;
  readonly fileCount: number;
  readonly freeCount: number;
  readonly openFileCount: number;
  paused: boolean;
  mount(): void;
  unmount(): void;
  fileNames(): string[];
  quarantined(): QuarantinedSlot[];
  stats(): SlotStats[];
  startTrace(): void;
  stopTrace(): TraceEvent[];
  takeLastError(): LastError | null;
  addFiles(files: PoolFile[]): void;
  takeFree(n: number): TakenFile[];
  takeRecyclable(): TakenFile[];
  takeQuarantined(name: string): TakenFile[];
  slotNames(): string[];
  usedSlotNames(): string[];
  setMtime(name: string, mtime: number): void;
  wipe(): void;
  pause(): void;
  unpause(files: PoolFile[]): void;
  flushAll(): void;
}
