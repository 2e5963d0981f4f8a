// The proxy's HTTP/1.1 framing: where messages start, end their heads and end, whatever way the
// bytes are split.
import { describe, expect, it } from 'vitest';
import { HttpFraming } from '../src/http-framing.js';

/** The hooks' calls for `text` fed in pieces of `piece` bytes. */
function frame(kind: 'request' | 'response', text: string, piece: number, methods: string[] = []) {
  const seen: string[] = [];
  const framing = new HttpFraming(
    kind,
    {
      onStart: (index, offset) => seen.push(`start ${index} @${offset}`),
      onHead: (head) =>
        seen.push(`head ${head.index} @${head.start}-${head.headEnd} body ${head.bodyLength}`),
      onEnd: (index, offset) => seen.push(`end ${index} @${offset}`),
    },
    (index) => methods[index],
  );
  const bytes = Buffer.from(text, 'latin1');
  for (let at = 0; at < bytes.length; at += piece) framing.push(bytes.subarray(at, at + piece));
  return seen;
}

describe('HttpFraming', () => {
  const requests =
    'PUT /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello' + // 0-38, 43
    'POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\nT: 1\r\n\r\n' + // 43-91, 114
    'GET /c HTTP/1.1\r\nHost: h\r\n\r\n'; // 114-142
  const responses =
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc' + // 0-63, 66
    'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n' + // 66-104: a HEAD answer
    'HTTP/1.1 204 No Content\r\n\r\n' + // 104-131
    'HTTP/1.1 200 OK\r\n\r\nuntil the end'; // 131-150, then to the close

  it.each([1, 2, 7, 1000])('finds the same boundaries in pieces of %i bytes', (piece) => {
    expect(frame('request', requests, piece)).toEqual([
      'start 0 @0',
      'head 0 @0-38 body 5',
      'end 0 @43',
      'start 1 @43',
      'head 1 @43-91 body undefined',
      'end 1 @114',
      'start 2 @114',
      'head 2 @114-142 body 0',
      'end 2 @142',
    ]);
    expect(frame('response', responses, piece, ['PUT', 'HEAD', 'DELETE', 'GET'])).toEqual([
      'start 0 @0',
      'head 0 @0-63 body 3',
      'end 0 @66',
      'start 1 @66',
      'head 1 @66-104 body 0',
      'end 1 @104',
      'start 2 @104',
      'head 2 @104-131 body 0',
      'end 2 @131',
      'start 3 @131',
      'head 3 @131-150 body undefined',
    ]);
  });
});
