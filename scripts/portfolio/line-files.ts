/**
 * Line-oriented output files written as the portfolio is generated, so a
 * million domains never sit in memory as one string (V8 caps a string at
 * 2^29 characters; a portfolio zone of 900 k domains is longer than that).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const FLUSH_AT = 1 << 20;

export class LineFile {
  private readonly fd: number;
  private buffer = '';
  lines = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(line: string): void {
    this.buffer += `${line}\n`;
    this.lines++;
    if (this.buffer.length >= FLUSH_AT) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.buffer) writeSync(this.fd, this.buffer);
    this.buffer = '';
  }
}
