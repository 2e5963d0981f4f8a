/** What {@link HttpFraming} learns from a message's head. */
export interface MessageHead {
  /** The exchange it belongs to: 0 for a connection's first request and its response. */
  index: number;
  /** Offset in the stream of the message's first byte (of its first interim `1xx`, for a response). */
  start: number;
  /** Offset of the first byte after the head. */
  headEnd: number;
  /** Body bytes that follow, or `undefined` when chunked or delimited by the connection's end. */
  bodyLength: number | undefined;
  /** The request line (`GET /b/k HTTP/1.1`) or status line. */
  firstLine: string;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>;
}

/** Called as a stream's messages go by; offsets count bytes from the connection's start. */
export interface FramingHooks {
  onStart?(index: number, offset: number): void;
  onHead?(head: MessageHead): void;
  onEnd?(index: number, offset: number): void;
}

type State =
  | { in: 'head'; text: string }
  | { in: 'body'; left: number }
  | { in: 'chunk-size'; line: string }
  | { in: 'chunk-data'; left: number }
  | { in: 'chunk-crlf'; left: number }
  | { in: 'trailer'; line: string }
  | { in: 'until-close' };

const MAX_HEAD = 64 * 1024;

/**
 * Finds where the HTTP/1.1 messages of one direction of a connection start, end their heads and
 * end, from the bytes as they pass (bodies by `Content-Length` or chunked encoding; a response to
 * `HEAD`, a `204`, a `304` has none; interim `1xx` answers belong to the response that follows).
 * Enough framing for a proxy to act at a chosen byte of a chosen message, no more: a stream it
 * cannot read is left alone (no further hooks).
 */
export class HttpFraming {
  private state: State = { in: 'head', text: '' };
  private offset = 0;
  private index = 0;
  private start: number | undefined;
  private broken = false;

  /**
   * @param kind which direction this is.
   * @param methodOf for responses: the method of the request of exchange `index` (`HEAD` answers have no body).
   */
  constructor(
    private readonly kind: 'request' | 'response',
    private readonly hooks: FramingHooks,
    private readonly methodOf: (index: number) => string | undefined = () => undefined,
  ) {}

  push(data: Uint8Array): void {
    let at = 0;
    while (at < data.length && !this.broken) at += this.step(data.subarray(at));
  }

  /** Consumes the bytes of `data` up to the next change of state; returns how many. */
  private step(data: Uint8Array): number {
    const state = this.state;
    if (state.in === 'head' && this.start === undefined) {
      this.start = this.offset;
      this.hooks.onStart?.(this.index, this.offset);
    }
    switch (state.in) {
      case 'head': {
        const before = state.text.length;
        state.text += Buffer.from(data).toString('latin1');
        const end = state.text.indexOf('\r\n\r\n');
        if (end < 0) {
          if (state.text.length > MAX_HEAD) this.broken = true;
          return this.consume(data.length);
        }
        const used = this.consume(end + 4 - before);
        this.headDone(state.text.slice(0, end));
        return used;
      }
      case 'body': {
        const used = this.consume(Math.min(state.left, data.length));
        state.left -= used;
        if (state.left === 0) this.messageDone();
        return used;
      }
      case 'chunk-size':
      case 'trailer': {
        const newline = data.indexOf(0x0a);
        const take = newline < 0 ? data.length : newline + 1;
        state.line += Buffer.from(data.subarray(0, take)).toString('latin1');
        this.consume(take);
        if (newline >= 0) this.lineDone(state, state.line.trimEnd());
        return take;
      }
      case 'chunk-data': {
        const used = this.consume(Math.min(state.left, data.length));
        state.left -= used;
        if (state.left === 0) this.state = { in: 'chunk-crlf', left: 2 };
        return used;
      }
      case 'chunk-crlf': {
        const used = this.consume(Math.min(state.left, data.length));
        state.left -= used;
        if (state.left === 0) this.state = { in: 'chunk-size', line: '' };
        return used;
      }
      case 'until-close':
        return this.consume(data.length);
    }
  }

  private consume(n: number): number {
    this.offset += n;
    return n;
  }

  private headDone(text: string): void {
    const [firstLine = '', ...lines] = text.split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = this.kind === 'response' ? Number(firstLine.split(' ')[1]) : undefined;
    if (status !== undefined && status >= 100 && status < 200) {
      this.state = { in: 'head', text: '' }; // interim: the final answer follows
      return;
    }
    const chunked = /(^|,)\s*chunked\s*$/i.test(headers['transfer-encoding'] ?? '');
    const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
    const bodiless =
      status === 204 || status === 304 || (status !== undefined && this.methodOf(this.index) === 'HEAD');
    const bodyLength = bodiless
      ? 0
      : chunked
        ? undefined
        : (length ?? (status === undefined ? 0 : undefined));
    if (bodyLength !== undefined && !Number.isSafeInteger(bodyLength)) {
      this.broken = true;
      return;
    }
    this.hooks.onHead?.({
      index: this.index,
      start: this.start!,
      headEnd: this.offset,
      bodyLength,
      firstLine,
      headers,
    });
    if (bodyLength === 0) this.messageDone();
    else if (bodyLength !== undefined) this.state = { in: 'body', left: bodyLength };
    else this.state = chunked ? { in: 'chunk-size', line: '' } : { in: 'until-close' };
  }

  private lineDone(state: State & { in: 'chunk-size' | 'trailer' }, line: string): void {
    if (state.in === 'trailer') {
      if (line === '') this.messageDone();
      else state.line = '';
      return;
    }
    const size = Number.parseInt(line.split(';')[0]!, 16);
    if (!Number.isSafeInteger(size)) this.broken = true;
    else this.state = size === 0 ? { in: 'trailer', line: '' } : { in: 'chunk-data', left: size };
  }

  private messageDone(): void {
    this.hooks.onEnd?.(this.index, this.offset);
    this.index++;
    this.start = undefined;
    this.state = { in: 'head', text: '' };
  }
}
