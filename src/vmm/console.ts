// The guest console on the host terminal: UART output goes to stdout
// (buffered, flushed whenever the VMM yields to the event loop), stdin goes
// to the UART's receive FIFO. On a TTY the terminal is put in raw mode so
// every key reaches the guest; as with QEMU's -nographic, Ctrl-A starts an
// escape: Ctrl-A x quits, Ctrl-A h prints help, Ctrl-A Ctrl-A sends Ctrl-A.
// Escapes are recognised on piped input too (tests and scripts use them).

import { writeSync } from 'node:fs';

const CTRL_A = 0x01;

export const ESCAPE_HELP = [
  'C-a h    print this help',
  'C-a x    exit emulator',
  'C-a s    print exit statistics',
  'C-a C-a  sends C-a',
].join('\r\n') + '\r\n';

export interface ConsoleHost {
  /** Hands received characters to the UART; returns how many it accepted. */
  deliver(bytes: number[]): number;
  quit(): void;
  printStats(): void;
  /** Input arrived (wakes a VMM waiting for an event). */
  wake(): void;
}

export interface ConsoleStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  /** File descriptor the guest's output is written to (1 = stdout). */
  outputFd: number;
}

export class Console {
  private out: number[] = [];
  private readonly pending: number[] = [];
  private escape = false;
  private rawMode = false;
  private host: ConsoleHost | undefined;
  private readonly onData = (chunk: Buffer | string) => this.input(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);

  constructor(private readonly streams: ConsoleStreams) {}

  /** Starts reading input (raw mode on a TTY). */
  attach(host: ConsoleHost): void {
    this.host = host;
    const input = this.streams.input;
    if (input.isTTY && input.setRawMode) { input.setRawMode(true); this.rawMode = true; }
    input.on('data', this.onData);
    input.on('error', () => { /* a closed or unreadable stdin just means no input */ });
    input.resume();
  }

  /** Stops reading input and restores the terminal. */
  detach(): void {
    const input = this.streams.input;
    input.removeListener('data', this.onData);
    if (this.rawMode && input.setRawMode) { input.setRawMode(false); this.rawMode = false; }
    input.pause();
    (input as unknown as { unref?: () => void }).unref?.();
    this.flush();
  }

  /** A character from the guest. */
  write(byte: number): void {
    this.out.push(byte);
    if (this.out.length >= 4096) this.flush();
  }

  /** Characters from the guest (virtio-console output: a view valid only during the call). */
  writeBytes(bytes: Uint8Array): void {
    for (const b of bytes) this.out.push(b);
    if (this.out.length >= 4096) this.flush();
  }

  /** Writes buffered guest output to the host. */
  flush(): void {
    if (this.out.length === 0) return;
    const buf = Buffer.from(this.out);
    this.out = [];
    let done = 0;
    while (done < buf.length) {
      try { done += writeSync(this.streams.outputFd, buf, done); }
      catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return; }
    }
  }

  /** Prints a host message on the console (between guest output). */
  message(text: string): void {
    this.flush();
    const buf = Buffer.from(this.rawMode ? text.replace(/\n/g, '\r\n') : text);
    try { writeSync(2, buf); } catch { /* stderr gone */ }
  }

  /** Moves queued input into the UART while it has room. */
  deliverPending(): void {
    if (!this.host || this.pending.length === 0) return;
    const n = this.host.deliver(this.pending);
    if (n > 0) this.pending.splice(0, n);
  }

  private input(chunk: Buffer): void {
    for (const b of chunk) {
      if (this.escape) {
        this.escape = false;
        if (b === 0x78 /* x */) { this.host?.quit(); return; }
        if (b === 0x68 /* h */) { this.message(ESCAPE_HELP); continue; }
        if (b === 0x73 /* s */) { this.host?.printStats(); continue; }
        if (b === CTRL_A) { this.pending.push(CTRL_A); continue; }
        continue; // unknown escapes are swallowed, as QEMU does
      }
      if (b === CTRL_A) { this.escape = true; continue; }
      this.pending.push(b);
    }
    this.deliverPending();
    this.host?.wake();
  }
}
