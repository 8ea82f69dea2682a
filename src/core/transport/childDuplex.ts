import { Duplex, type Readable, type Writable } from 'node:stream';

/**
 * A socket-like Duplex over a child's stdio: reading gives what the child writes on stdout,
 * writing goes to its stdin. `ws` takes it as its connection (`createConnection`), so a
 * WebSocket runs through a child that only pipes bytes: `codex app-server proxy`, locally or
 * as `ssh -T host codex app-server proxy`.
 *
 * Ending the Duplex ends the child's stdin; it never kills the child (its owner does that).
 */
export function childDuplex(stdin: Writable, stdout: Readable): Duplex {
  const onData = (chunk: Buffer): void => {
    if (duplex.destroyed) return;
    if (!duplex.push(chunk)) stdout.pause();
  };
  const onEnd = (): void => {
    if (!duplex.destroyed) duplex.push(null);
  };
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      if (stdin.writableEnded || stdin.destroyed) {
        callback(new Error("the child's stdin is closed"));
        return;
      }
      // Handed to stdin at once, so what ws wrote is never behind a later end of stdin (a stop);
      // stdin's own buffer full → wait for it to drain (backpressure reaches ws's sender).
      if (stdin.write(chunk)) {
        callback();
        return;
      }
      const resume = (): void => {
        stdin.off('drain', resume);
        stdin.off('close', resume);
        callback();
      };
      stdin.on('drain', resume);
      stdin.on('close', resume);
    },
    final(callback) {
      stdin.end();
      callback();
    },
    read() {
      stdout.resume();
    },
    destroy(error, callback) {
      stdout.off('data', onData);
      // Keep draining, so a child still writing never blocks on a full pipe.
      stdout.resume();
      if (!stdin.writableEnded && !stdin.destroyed) stdin.end();
      callback(error);
    },
  });
  // ws and node:http listen too; this one only makes sure no error is ever unhandled.
  duplex.on('error', () => {});
  stdout.on('data', onData);
  stdout.once('end', onEnd);
  // stdout may close without 'end' (destroyed, or the child never started).
  stdout.once('close', onEnd);
  // node:http and ws call these on their sockets; a pipe has nothing to tune.
  return Object.assign(duplex, {
    setNoDelay: () => duplex,
    setTimeout: () => duplex,
    setKeepAlive: () => duplex,
    ref: () => duplex,
    unref: () => duplex,
  });
}
