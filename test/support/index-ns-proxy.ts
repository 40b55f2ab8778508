/**
 * mongorestore sends an `ns` option with every index it creates and
 * relies on MongoDB ignoring it; FerretDB refuses it ("Index option "ns"
 * is unknown"), so against FerretDB the tests and the bench put mongorestore behind
 * this loopback proxy, which drops just that option from `createIndexes`.
 *
 * It is built for volume, so the bench's baseline is not slowed down by its
 * own plumbing: small messages are
 * gathered and inspected, large ones (the inserts) stream straight through
 * without being copied or parsed. Real MongoDB needs no proxy.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { BSON, type Document } from 'bson';

const OP_MSG = 2013;
const CHECKSUM_PRESENT = 1;
/** createIndexes commands are tiny; anything this large is data and is not looked at. */
const INSPECT_LIMIT = 64 * 1024;

export interface Proxy {
  uri: string;
  close(): Promise<void>;
}

export async function startIndexNsProxy(targetUri: string): Promise<Proxy> {
  const target = new URL(targetUri);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 27017), target.hostname);
    sockets.add(client).add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    upstream.pipe(client);
    client.pipe(new MessageRewriter(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
  const uri = new URL(targetUri);
  uri.host = `127.0.0.1:${address.port}`;
  return {
    uri: uri.toString(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Splits the client's byte stream into wire messages and forwards them, rewriting createIndexes. */
class MessageRewriter extends Writable {
  /** Bytes of the current message still to pass through untouched (a large message). */
  private streaming = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(private readonly upstream: Socket) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.streaming > 0) {
        const take = Math.min(this.streaming, chunk.length - offset);
        this.upstream.write(chunk.subarray(offset, offset + take));
        this.streaming -= take;
        offset += take;
        continue;
      }
      const take = chunk.subarray(offset);
      this.held.push(take);
      this.heldBytes += take.length;
      offset = chunk.length;
      this.release();
    }
    if (this.upstream.writableNeedDrain) this.upstream.once('drain', () => callback());
    else callback();
  }

  /** Forwards every complete held message; starts streaming a large one. */
  private release(): void {
    while (this.heldBytes >= 4) {
      const bytes = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
      this.held = [bytes];
      const length = bytes.readInt32LE(0);
      if (length > INSPECT_LIMIT) {
        const now = Math.min(length, bytes.length);
        this.upstream.write(bytes.subarray(0, now));
        this.streaming = length - now;
        this.keep(bytes.subarray(now));
        continue;
      }
      if (bytes.length < length) return;
      this.upstream.write(rewriteCreateIndexes(bytes.subarray(0, length)));
      this.keep(bytes.subarray(length));
    }
  }

  private keep(rest: Buffer): void {
    this.held = rest.length > 0 ? [rest] : [];
    this.heldBytes = rest.length;
  }
}

/** The message unchanged, unless it is an OP_MSG createIndexes whose index specs carry `ns`. */
function rewriteCreateIndexes(message: Buffer): Buffer {
  if (message.length < 26 || message.readInt32LE(12) !== OP_MSG || message[20] !== 0) return message;
  const flags = message.readUInt32LE(16);
  const bodyLength = message.readInt32LE(21);
  const body = BSON.deserialize(message.subarray(21, 21 + bodyLength), { promoteValues: false });
  if (Object.keys(body)[0] !== 'createIndexes' || !Array.isArray(body.indexes)) return message;
  body.indexes = (body.indexes as Document[]).map(({ ns: _ns, ...spec }) => spec);
  const newBody = Buffer.from(BSON.serialize(body));
  // A checksum would no longer match the rewritten message, so it is dropped.
  const restEnd = flags & CHECKSUM_PRESENT ? message.length - 4 : message.length;
  const header = Buffer.from(message.subarray(0, 21));
  header.writeUInt32LE(flags & ~CHECKSUM_PRESENT, 16);
  const rewritten = Buffer.concat([header, newBody, message.subarray(21 + bodyLength, restEnd)]);
  rewritten.writeInt32LE(rewritten.length, 0);
  return rewritten;
}
