import { fileURLToPath } from 'node:url';
import { defined, queryFields, urlError, urlHost, urlPrefix } from './url-parts.js';

// The URL forms of the built-in backends. Each returns an unvalidated config object; the caller
// validates it with the backend's schema. Adapter packages reuse these as their `fromUrl`.

/** `file:///abs/path` (or `file://localhost/abs/path`) → `{type: 'fs', root}`. */
export function fsConfigFromUrl(url: URL): unknown {
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw urlError('a file URL has no host: write file:///absolute/path or file:relative/path', 'root');
  }
  queryFields(url, {});
  return { type: 'fs', root: fileURLToPath(url) };
}

/** `s3://bucket/prefix?region=…&endpoint=…&forcePathStyle=true&checksums=…&conditionalWrites=…&partSize=…&concurrency=…&connectTimeout=10s&idleTimeout=60s` */
export function s3ConfigFromUrl(url: URL): unknown {
  const query = queryFields(url, {
    region: 'string',
    endpoint: 'string',
    forcePathStyle: 'boolean',
    checksums: 'string',
    conditionalWrites: 'boolean',
    partSize: 'integer',
    concurrency: 'integer',
    connectTimeout: 'string',
    idleTimeout: 'string',
  });
  return defined({ type: 's3', bucket: urlHost(url, 'bucket'), prefix: urlPrefix(url), ...query });
}

/** `gs://bucket/prefix?projectId=…&apiEndpoint=…` */
export function gcsConfigFromUrl(url: URL): unknown {
  const query = queryFields(url, { projectId: 'string', apiEndpoint: 'string' });
  return defined({ type: 'gcs', bucket: urlHost(url, 'bucket'), prefix: urlPrefix(url), ...query });
}

/** `az://container/prefix?account=…&endpoint=…` */
export function azureConfigFromUrl(url: URL): unknown {
  const query = queryFields(url, { account: 'string', endpoint: 'string' });
  return defined({ type: 'azure', container: urlHost(url, 'container'), prefix: urlPrefix(url), ...query });
}
