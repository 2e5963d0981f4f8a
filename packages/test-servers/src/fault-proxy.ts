import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { HttpFraming, type MessageHead } from './http-framing.js';
import { type ThrottleDialect, throttleAnswer } from './throttle-answers.js';

/**
 * What a connection may suffer: `reset` (a TCP RST in the middle of a request or a response),
 * `cut` (a response closed after a random number of its bytes), `stall` (a request or response
 * held in the middle for `stallMs`, then let through), `throttle` (a request answered by the
 * proxy itself with the service's throttling error instead of being forwarded).
 */
export type FaultKind = 'reset' | 'cut' | 'stall' | 'throttle';

export const FAULT_KINDS: readonly FaultKind[] = ['reset', 'cut', 'stall', 'throttle'];

export interface FaultProxyOptions {
  /** The server's port on 127.0.0.1. */
  target: number;
  /** Share of connections that get a fault, from 0 to 1. */
  probability: number;
  /** Uniform numbers in `[0, 1)`: a seeded source (`mulberry32` of `@ckpt/core/testing`) replays a run. */
  random: () => number;
  /** Whose throttling answer to give. */
  dialect: ThrottleDialect;
  /** How long a stall holds the bytes: longer than the client's idle timeout. */
  stallMs: number;
  /** The kinds drawn from, each as likely. Default all. */
  kinds?: readonly FaultKind[];
  /** The port to listen on (one a server was told about before it started); default a free one. */
  port?: number;
}

/** What a proxy saw and did. */
export interface FaultStats {
  connections: number;
  /** Requests that reached the proxy (the throttled ones included). */
  requests: number;
  /** Faults that happened, by kind (a fault planned for a request the connection never carried does not count). */
  injected: Record<FaultKind, number>;
}

/** A running fault-injecting proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  stats(): FaultStats;
  /** Stops accepting, drops every connection. Idempotent. */
  close(): Promise<void>;
}

/** The fault of one connection: which exchange, which direction, how far into the message. */
interface Plan {
  kind: FaultKind;
  exchange: number;
  direction: 'request' | 'response';
  /** Where in the message, as a fraction of its length (of its body for a cut). */
  at: number;
}

/**
 * A TCP proxy for plain HTTP/1.1 on 127.0.0.1 that hurts a share of the connections to `target`:
 * each accepted connection gets a fault with `probability`, aimed at one of its first exchanges
 * (the first half the time, the second a quarter, …) at a random byte of the message. The
 * connection is otherwise forwarded untouched. Faults are counted when they happen.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const kinds = options.kinds ?? FAULT_KINDS;
  const { random } = options;
  const stats: FaultStats = {
    connections: 0,
    requests: 0,
    injected: { reset: 0, cut: 0, stall: 0, throttle: 0 },
  };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const plan = (): Plan | undefined => {
    if (random() >= options.probability) return undefined;
    const kind = kinds[Math.floor(random() * kinds.length)]!;
    let exchange = 0;
    while (exchange < 8 && random() < 0.5) exchange++;
    const either = random() < 0.5 ? 'request' : 'response';
    const direction = kind === 'cut' ? 'response' : kind === 'throttle' ? 'request' : either;
    return { kind, exchange, direction, at: random() };
  };

  const server = createServer((client) => {
    stats.connections++;
    const upstream = connect(options.target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {}).on('close', () => sockets.delete(socket));
    }
    const toServer = new Pipe(client, upstream);
    const toClient = new Pipe(upstream, client);
    const fault = plan();
    const methods: string[] = [];

    /** Aims the fault at the message `head` starts, in `pipe`'s direction, once its length is known. */
    const aim = (head: MessageHead, pipe: Pipe) => {
      if (!fault || fault.exchange !== head.index) return;
      const body = head.bodyLength;
      const at =
        fault.kind === 'cut' && body !== undefined && body > 0
          ? head.headEnd + Math.floor(fault.at * body)
          : head.start + Math.floor(fault.at * (head.headEnd - head.start + (body ?? 64 * 1024)));
      pipe.arm(at, fault.exchange, (rest) => {
        stats.injected[fault.kind]++;
        if (fault.kind === 'reset') {
          client.resetAndDestroy();
          upstream.resetAndDestroy();
        } else if (fault.kind === 'cut') {
          client.end();
          upstream.destroy();
        } else {
          pipe.hold();
          const timer = setTimeout(() => {
            timers.delete(timer);
            pipe.resume(rest);
          }, options.stallMs);
          timers.add(timer);
        }
      });
    };
    const throttle = (head: MessageHead) => {
      if (client.writableEnded) return;
      stats.injected.throttle++;
      client.end(throttleAnswer(options.dialect, head.firstLine));
      upstream.destroy();
    };

    const throttling = fault?.kind === 'throttle';
    toServer.framing = new HttpFraming('request', {
      onStart: (index, offset) => {
        stats.requests++;
        if (throttling && fault.exchange === index) toServer.arm(offset, index, () => toServer.swallow());
      },
      onHead: (head) => {
        methods[head.index] = head.firstLine.split(' ')[0]!;
        if (throttling && fault.exchange === head.index) {
          // a client that waits for `100 Continue` sends no body: answer now, else once it is in
          if (head.bodyLength === 0 || /100-continue/i.test(head.headers.expect ?? '')) throttle(head);
          else toServer.onMessageEnd = () => throttle(head);
        } else if (fault?.direction === 'request') aim(head, toServer);
      },
      onEnd: (index, offset) => toServer.messageEnded(index, offset),
    });
    toClient.framing = new HttpFraming(
      'response',
      {
        onHead: (head) => {
          if (fault?.direction === 'response') aim(head, toClient);
        },
        onEnd: (index, offset) => toClient.messageEnded(index, offset),
      },
      (index) => methods[index],
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stats: () => structuredClone(stats),
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/**
 * One direction of a connection: forwards what `from` sends to `to` (its end too), and runs a
 * trigger, once armed, before the byte at the offset it was armed for.
 */
class Pipe {
  framing: HttpFraming | undefined;
  /** Runs once when the armed message ends (a throttled request fully received). */
  onMessageEnd: (() => void) | undefined;
  /** Bytes passed on (or swallowed) so far. */
  private forwarded = 0;
  private triggerAt = Number.POSITIVE_INFINITY;
  private trigger: ((rest: Uint8Array) => void) | undefined;
  private armedFor: number | undefined;
  private held = false;
  private ended = false;
  private closed = false;
  private swallowing = false;

  constructor(
    readonly from: Socket,
    private readonly to: Socket,
  ) {
    from.on('data', (data: Buffer) => {
      this.framing?.push(data);
      this.pass(data);
    });
    from.on('end', () => {
      this.ended = true;
      if (!this.held) to.end();
    });
    from.on('close', () => {
      this.closed = true;
      if (!this.held && !to.writableEnded) to.destroy();
    });
  }

  /**
   * Runs `trigger` with the bytes from `offset` on (or from the next byte to pass, if that is
   * later) instead of passing them; if the message of exchange `index` ends first, before its last byte.
   */
  arm(offset: number, index: number, trigger: (rest: Uint8Array) => void): void {
    this.triggerAt = Math.max(offset, this.forwarded);
    this.trigger = trigger;
    this.armedFor = index;
  }

  /** Passes nothing more from now on. */
  swallow(): void {
    this.swallowing = true;
  }

  /** Holds everything until {@link resume}. */
  hold(): void {
    this.held = true;
    this.from.pause();
  }

  /** Lets `rest` through, and what follows. */
  resume(rest: Uint8Array): void {
    this.held = false;
    this.pass(rest);
    this.from.resume();
    if (this.ended) this.to.end();
    else if (this.closed) this.to.destroy();
  }

  messageEnded(index: number, offset: number): void {
    if (index !== this.armedFor) return;
    if (this.trigger && this.triggerAt >= offset) this.triggerAt = Math.max(this.forwarded, offset - 1);
    const onEnd = this.onMessageEnd;
    this.onMessageEnd = undefined;
    onEnd?.();
  }

  private pass(data: Uint8Array): void {
    const trigger = this.trigger;
    if (trigger && this.triggerAt < this.forwarded + data.length) {
      const before = Math.max(0, this.triggerAt - this.forwarded);
      this.write(data.subarray(0, before));
      this.trigger = undefined;
      this.triggerAt = Number.POSITIVE_INFINITY;
      trigger(data.subarray(before));
      if (this.swallowing) this.forwarded += data.length - before;
      return;
    }
    if (this.swallowing) this.forwarded += data.length;
    else this.write(data);
  }

  private write(data: Uint8Array): void {
    this.forwarded += data.length;
    if (data.length && this.to.writable) this.to.write(data);
  }
}
