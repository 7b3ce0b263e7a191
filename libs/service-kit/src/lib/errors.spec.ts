import { z } from 'zod';
import { HttpError, httpErrors, notFoundResponse, toErrorResponse } from './errors';
import { validate } from './validate';
import { checkApiKey, isMutating } from './auth';

describe('toErrorResponse', () => {
  it('passes HttpError status, message, issues and headers through', () => {
    const r = toErrorResponse(httpErrors.unauthorized('Missing bearer token', 'svc'), 'rid');
    expect(r).toEqual({
      status: 401,
      body: { error: 'Unauthorized', message: 'Missing bearer token', requestId: 'rid' },
      headers: { 'www-authenticate': 'Bearer realm="svc"' },
      log: 'none',
    });
  });

  it('maps express body-parser errors', () => {
    expect(toErrorResponse({ type: 'entity.parse.failed', status: 400 }).body.message).toBe('Malformed JSON in request body');
    expect(toErrorResponse({ type: 'entity.too.large', status: 413 })).toMatchObject({ status: 413, body: { error: 'Payload Too Large' } });
    expect(toErrorResponse({ type: 'charset.unsupported', status: 415 }).status).toBe(415);
  });

  it('maps fastify errors', () => {
    const syntax = Object.assign(new SyntaxError('Unexpected token } in JSON at position 9'), { statusCode: 400 });
    expect(toErrorResponse(syntax).body).toEqual({ error: 'Bad Request', message: 'Malformed JSON in request body' });
    expect(toErrorResponse({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }).status).toBe(413);
    expect(toErrorResponse({ code: 'FST_ERR_CTP_EMPTY_JSON_BODY', statusCode: 400 }).body.message).toMatch(/empty/);
    expect(toErrorResponse({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }).body.message).toBe('Content-Type must be application/json');
    expect(toErrorResponse({ code: 'FST_ERR_X', statusCode: 405, message: 'internal detail' }).body).toEqual({
      error: 'Method Not Allowed',
      message: 'Method Not Allowed',
    });
  });

  it('turns anything else into a bare 500 with only the request id', () => {
    const err = new Error('SELECT * FROM users failed at /srv/app/db.js:12');
    const r = toErrorResponse(err, 'rid-9');
    expect(r).toEqual({
      status: 500,
      body: { error: 'Internal Server Error', message: 'Internal Server Error', requestId: 'rid-9' },
      headers: {},
      log: 'error',
    });
    expect(toErrorResponse(undefined).status).toBe(500);
    expect(toErrorResponse({ statusCode: 502, message: 'x' }).body.message).toBe('Internal Server Error');
  });

  it('builds a JSON 404', () => {
    expect(notFoundResponse('r')).toMatchObject({ status: 404, body: { error: 'Not Found', message: 'Route not found', requestId: 'r' } });
  });
});

describe('validate', () => {
  const schema = z.strictObject({ name: z.string().min(1), qty: z.number().int().positive(), tags: z.array(z.string()).optional() });

  it('returns parsed data', () => {
    expect(validate(schema, { name: 'a', qty: 2 })).toEqual({ name: 'a', qty: 2 });
  });

  it('throws a 400 HttpError listing every bad field without echoing input', () => {
    let err: unknown;
    try {
      validate(schema, { name: '', qty: 'two', tags: [1], extra: 'secret-input' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    const r = toErrorResponse(err);
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('Invalid request body');
    expect(r.body.issues?.map((i) => i.field).sort()).toEqual(['(body)', 'name', 'qty', 'tags.0']);
    expect(JSON.stringify(r.body)).not.toContain('secret-input');
  });

  it('reports a missing body at the root', () => {
    expect(() => validate(schema, undefined)).toThrow(HttpError);
  });
});

describe('checkApiKey', () => {
  it('lets everything through when no key is configured, and reads without a key', () => {
    expect(checkApiKey(undefined, 'POST', undefined, 'svc')).toBeUndefined();
    expect(checkApiKey('k', 'GET', undefined, 'svc')).toBeUndefined();
    expect(checkApiKey('k', 'HEAD', undefined, 'svc')).toBeUndefined();
  });

  it('requires the exact bearer token on mutating methods', () => {
    expect(checkApiKey('k3y', 'POST', 'Bearer k3y', 'svc')).toBeUndefined();
    expect(checkApiKey('k3y', 'delete', 'bearer k3y', 'svc')).toBeUndefined();
    expect(checkApiKey('k3y', 'PUT', undefined, 'svc')?.message).toBe('Missing bearer token');
    expect(checkApiKey('k3y', 'PATCH', 'Basic k3y', 'svc')?.message).toBe('Missing bearer token');
    expect(checkApiKey('k3y', 'POST', 'Bearer k3y-not', 'svc')?.status).toBe(401);
    expect(checkApiKey('k3y', 'POST', 'Bearer k3', 'svc')?.status).toBe(401);
  });

  it('knows the mutating methods', () => {
    expect(['POST', 'PUT', 'PATCH', 'DELETE'].every(isMutating)).toBe(true);
    expect(['GET', 'HEAD', 'OPTIONS', undefined].some(isMutating)).toBe(false);
  });
});
