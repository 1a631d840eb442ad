// Files of the Batch API stored in PostgreSQL: one batch_files row and the content in ordered chunks
// (batch_file_chunks), written in one transaction so a file is either whole or absent. Every read
// is scoped by the owning key: another key's file is "not found", never "forbidden".
import type pg from "pg";
import { withClient } from "../../platform/db/with-client";
import type { FileObject, FilePurpose } from "./shapes";
import { newFileId } from "./ids";
import { Prisma, rows, run, type Queryable } from "./sql";

/** 1 MiB per row: large enough that a file is few rows, small enough that no row is a burden to read. */
export const CHUNK_BYTES = 1_048_576;

interface FileRow {
  id: string;
  key_id: string;
  purpose: FilePurpose;
  filename: string;
  bytes: number;
  created_at: Date;
  expires_at: Date | null;
}

function toFileObject(row: FileRow): FileObject {
  const file: FileObject = {
    id: row.id,
    object: "file",
    bytes: row.bytes,
    created_at: Math.floor(row.created_at.getTime() / 1000),
    filename: row.filename,
    purpose: row.purpose,
    status: "processed",
  };
  if (row.expires_at) file.expires_at = Math.floor(row.expires_at.getTime() / 1000);
  return file;
}

export interface NewFile {
  keyId: string;
  purpose: FilePurpose;
  filename: string;
  content: Buffer;
}

/** Writes a file's row and chunks on a client already inside a transaction. */
async function insertFile(client: Queryable, file: NewFile): Promise<FileObject> {
  const { content, ...described } = file;
  const writer = await FileWriter.open(client, described);
  await writer.write(content);
  return writer.close();
}

/**
 * Writes a file a piece at a time on a client inside a transaction, holding at most about one chunk in
 * memory (a batch's output can be far larger than what finalization should hold at once).
 */
export class FileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private seq = 0;
  private total = 0;

  private constructor(
    private readonly client: Queryable,
    readonly id: string,
  ) {}

  static async open(client: Queryable, file: Omit<NewFile, "content">): Promise<FileWriter> {
    const id = newFileId();
    await run(
      client,
      Prisma.sql`INSERT INTO batch_files (id, key_id, purpose, filename, bytes) VALUES (${id}, ${file.keyId}::uuid, ${file.purpose}, ${file.filename}, 0)`,
    );
    return new FileWriter(client, id);
  }

  async write(data: Buffer): Promise<void> {
    this.pending.push(data);
    this.pendingBytes += data.length;
    this.total += data.length;
    if (this.pendingBytes < CHUNK_BYTES) return;
    const joined = Buffer.concat(this.pending);
    let at = 0;
    for (; joined.length - at >= CHUNK_BYTES; at += CHUNK_BYTES) await this.writeChunk(joined.subarray(at, at + CHUNK_BYTES));
    // A copy, so the joined buffer is not kept alive by its tail.
    const rest = Buffer.from(joined.subarray(at));
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
  }

  async close(): Promise<FileObject> {
    if (this.pendingBytes > 0) await this.writeChunk(Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
    const [row] = await rows<FileRow>(
      this.client,
      Prisma.sql`UPDATE batch_files SET bytes = ${this.total} WHERE id = ${this.id}
        RETURNING id, key_id::text, purpose, filename, bytes, created_at, expires_at`,
    );
    return toFileObject(row!);
  }

  private async writeChunk(data: Buffer): Promise<void> {
    await run(
      this.client,
      Prisma.sql`INSERT INTO batch_file_chunks (file_id, seq, data) VALUES (${this.id}, ${this.seq++}, ${data})`,
    );
  }
}

/** Stores a file in its own transaction. */ /** Stores a file in its own transaction. */
export async function saveFile(pool: pg.Pool, file: NewFile): Promise<FileObject> {
  return withClient(pool, async (client) => {
    await client.query("BEGIN");
    try {
      const saved = await insertFile(client, file);
      await client.query("COMMIT");
      return saved;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  });
}

export async function findFile(db: Queryable, keyId: string, id: string): Promise<FileObject | null> {
  const [row] = await rows<FileRow>(
    db,
    Prisma.sql`SELECT id, key_id::text, purpose, filename, bytes, created_at, expires_at FROM batch_files WHERE id = ${id} AND key_id = ${keyId}::uuid`,
  );
  return row ? toFileObject(row) : null;
}

/** A file's content, or null when the key has no such file. */
export async function readFileContent(db: Queryable, keyId: string, id: string): Promise<Buffer | null> {
  if (!(await findFile(db, keyId, id))) return null;
  const chunks = await rows<{ data: Buffer }>(
    db,
    Prisma.sql`SELECT data FROM batch_file_chunks WHERE file_id = ${id} ORDER BY seq`,
  );
  return Buffer.concat(chunks.map((chunk) => chunk.data));
}

/** A file's chunks in order, read one at a time (a large file is never whole in memory). */
export async function* fileChunks(db: Queryable, id: string): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const [chunk] = await rows<{ data: Buffer }>(
      db,
      Prisma.sql`SELECT data FROM batch_file_chunks WHERE file_id = ${id} AND seq = ${seq}`,
    );
    if (!chunk) return;
    yield chunk.data;
  }
}

/** Deletes a key's file (its chunks go with it); false when there was none. */
export async function deleteFile(db: Queryable, keyId: string, id: string): Promise<boolean> {
  return (await run(db, Prisma.sql`DELETE FROM batch_files WHERE id = ${id} AND key_id = ${keyId}::uuid`)) > 0;
}

export interface FileListOptions {
  limit: number;
  after?: string;
  order: "asc" | "desc";
  purpose?: string;
}

/** A key's files in creation order (newest first unless `order` is asc), after the file `after`. */
export async function listFiles(
  db: Queryable,
  keyId: string,
  { limit, after, order, purpose }: FileListOptions,
): Promise<{ data: FileObject[]; hasMore: boolean }> {
  const conditions = [Prisma.sql`f.key_id = ${keyId}::uuid`];
  if (purpose !== undefined) conditions.push(Prisma.sql`f.purpose = ${purpose}`);
  const comparison = Prisma.raw(order === "asc" ? ">" : "<");
  const direction = Prisma.raw(order === "asc" ? "ASC" : "DESC");
  if (after !== undefined)
    conditions.push(
      Prisma.sql`(f.created_at, f.id) ${comparison} (SELECT a.created_at, a.id FROM batch_files a WHERE a.id = ${after})`,
    );
  const found = await rows<FileRow>(
    db,
    Prisma.sql`SELECT f.id, f.key_id::text, f.purpose, f.filename, f.bytes, f.created_at, f.expires_at FROM batch_files f
      WHERE ${Prisma.join(conditions, " AND ")} ORDER BY f.created_at ${direction}, f.id ${direction} LIMIT ${limit + 1}`,
  );
  return { data: found.slice(0, limit).map(toFileObject), hasMore: found.length > limit };
}
