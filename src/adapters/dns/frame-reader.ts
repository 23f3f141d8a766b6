/**
 * The DNS messages in a TCP byte stream: each comes after its length in two
 * bytes (RFC 1035 4.2.2), and a chunk off the socket may hold part of one,
 * or several.
 */

/** Cuts a TCP byte stream into the DNS messages it frames. */
export class FrameReader {
  /** The start of a message whose rest has not arrived. */
  private partial: Buffer | undefined;

  /** Hands each whole message of `chunk` (after what was kept) to `each`, while it returns true. */
  read(chunk: Buffer, each: (message: Buffer) => boolean): void {
    const data = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    this.partial = undefined;
    let at = 0;
    while (data.length - at >= 2) {
      const length = data.readUInt16BE(at);
      if (data.length - at - 2 < length) break;
      const message = data.subarray(at + 2, at + 2 + length);
      at += 2 + length;
      if (!each(message)) return;
    }
    if (at < data.length) this.partial = Buffer.from(data.subarray(at));
  }
}
