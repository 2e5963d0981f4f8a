import { randomUUID } from 'node:crypto';

/** Whose throttling answer a proxy imitates. */
export type ThrottleDialect = 's3' | 'gcs' | 'azure';

/**
 * The raw HTTP answer a busy service gives `request` (`GET /b/k HTTP/1.1`), shaped like the
 * real one: S3's `503 SlowDown` XML, GCS's `429` JSON error with reason `rateLimitExceeded`,
 * Azure's `503 ServerBusy` XML with its `x-ms-error-code` header. A `HEAD` answer has no body.
 * The connection closes after it.
 */
export function throttleAnswer(dialect: ThrottleDialect, request: string): Buffer {
  const [method = 'GET', target = '/'] = request.split(' ');
  const { status, reason, type, headers, body } = throttleResponse(dialect, target);
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    `Content-Type: ${type}`,
    `Content-Length: ${method === 'HEAD' ? 0 : Buffer.byteLength(body)}`,
    'Connection: close',
    ...headers,
    '',
    method === 'HEAD' ? '' : body,
  ];
  return Buffer.from(lines.join('\r\n'));
}

/** The parts of the answer a busy service gives a request for `target` (its path and query). */
export function throttleResponse(dialect: ThrottleDialect, target: string): ThrottleResponse {
  return ANSWERS[dialect](target.split('?')[0]!, randomUUID());
}

/** See {@link throttleResponse}. */
export interface ThrottleResponse {
  status: number;
  reason: string;
  type: string;
  headers: string[];
  body: string;
}

const ANSWERS: Record<ThrottleDialect, (resource: string, id: string) => ThrottleResponse> = {
  s3: (resource, id) => ({
    status: 503,
    reason: 'Slow Down',
    type: 'application/xml',
    headers: [`x-amz-request-id: ${id}`],
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>' +
      `<Message>Please reduce your request rate.</Message><Resource>${resource}</Resource>` +
      `<RequestId>${id}</RequestId></Error>`,
  }),
  gcs: () => {
    const message =
      'The rate of change requests to the object exceeds the rate limit. ' +
      'Please reduce the rate of create, update, and delete requests.';
    return {
      status: 429,
      reason: 'Too Many Requests',
      type: 'application/json; charset=UTF-8',
      headers: [],
      body: JSON.stringify({
        error: {
          code: 429,
          message,
          errors: [{ message, domain: 'usageLimits', reason: 'rateLimitExceeded' }],
        },
      }),
    };
  },
  azure: (_resource, id) => ({
    status: 503,
    reason: 'The server is busy.',
    type: 'application/xml',
    headers: ['x-ms-error-code: ServerBusy', `x-ms-request-id: ${id}`, 'x-ms-version: 2025-01-05'],
    body:
      '\uFEFF<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>' +
      `<Message>The server is busy.\nRequestId:${id}\nTime:${new Date().toISOString()}</Message></Error>`,
  }),
};
