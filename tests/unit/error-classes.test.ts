import { describe, expect, it, vi } from 'vitest';

// The production build holds a copy of server modules per layer; an error thrown by one copy must
// still be recognised by the other, or a user's SQL mistake becomes "Something went wrong".
async function twoCopies() {
  const first = {
    errors: await import('@/server/errors'),
    sources: await import('@/server/query/data-source'),
    query: await import('@/server/query/service'),
  };
  vi.resetModules();
  const second = {
    errors: await import('@/server/errors'),
    sources: await import('@/server/query/data-source'),
    query: await import('@/server/query/service'),
  };
  return { first, second };
}

describe('error classes across module copies', () => {
  it('match their own class and its parents in the other copy, and nothing else', async () => {
    const { first, second } = await twoCopies();
    expect(second.errors.NotFoundError).not.toBe(first.errors.NotFoundError);
    const notFound = new first.errors.NotFoundError('That export');
    expect(notFound).toBeInstanceOf(second.errors.NotFoundError);
    expect(notFound).toBeInstanceOf(second.errors.UserFacingError);
    expect(notFound).toBeInstanceOf(Error);
    expect(notFound).not.toBeInstanceOf(second.errors.InvalidRequestError);
    expect(notFound).not.toBeInstanceOf(second.errors.RateLimitedError);
    expect(notFound.name).toBe('NotFoundError');
    expect(new first.errors.RateLimitedError(20, 'slow down')).toBeInstanceOf(second.errors.RateLimitedError);
    expect(new first.sources.QueryExecutionError('x')).not.toBeInstanceOf(second.errors.UserFacingError);
  });

  it('are not matched by look-alikes: a plain Error with the same name or a forged brand list', async () => {
    const { second } = await twoCopies();
    const named = Object.assign(new Error('no'), { name: 'NotFoundError' });
    expect(named).not.toBeInstanceOf(second.errors.NotFoundError);
    expect({ message: 'x' }).not.toBeInstanceOf(second.errors.UserFacingError);
    expect(null).not.toBeInstanceOf(second.errors.UserFacingError);
  });

  it('turn a data source error from one copy into a sentence in the other', async () => {
    const { first, second } = await twoCopies();
    const shown = second.query.asUserFacing(new first.sources.QueryExecutionError('column "kind" does not exist'));
    expect(shown).toBeInstanceOf(first.errors.InvalidRequestError);
    expect((shown as Error).message).toBe('The database could not run that query: column "kind" does not exist');
    expect((second.query.asUserFacing(new first.sources.DataSourceUnavailableError()) as Error).message).toBe(
      'The connection to the database was lost. Please try again in a moment.',
    );
    expect((second.query.asUserFacing(new first.sources.QueryTimeoutError(15_000)) as Error).message).toBe(
      'The query took longer than 15 s and was stopped.',
    );
  });
});

describe('the error table', () => {
  it('gives every domain error one code, HTTP status and sentence, over tRPC and HTTP alike', async () => {
    const {
      describeError,
      NotFoundError,
      InvalidRequestError,
      UserFacingError,
      RateLimitedError,
      UnauthenticatedError,
    } = await import('@/server/errors');
    const { toTrpcError } = await import('@/server/trpc/init');
    const cases = [
      [new NotFoundError('That export'), 'NOT_FOUND', 404, 'That export was not found.'],
      [new InvalidRequestError('Bad SQL.'), 'BAD_REQUEST', 400, 'Bad SQL.'],
      // A plain user-facing error was 400 over tRPC but 500 over HTTP before the table.
      [new UserFacingError('Something you can fix.'), 'BAD_REQUEST', 400, 'Something you can fix.'],
      [new RateLimitedError(30, 'Slow down.'), 'TOO_MANY_REQUESTS', 429, 'Slow down.'],
      [new UnauthenticatedError(), 'UNAUTHORIZED', 401, 'Please sign in.'],
      [
        new Error('socket hang up at 10.0.0.3'),
        'INTERNAL_SERVER_ERROR',
        500,
        'Something went wrong on our side. Please try again.',
      ],
    ] as const;
    for (const [error, code, status, message] of cases) {
      expect(describeError(error)).toMatchObject({ code, status, message });
      expect(toTrpcError(error).code).toBe(code);
    }
    expect(describeError(new RateLimitedError(30, 'Slow down.')).retryAfterSeconds).toBe(30);
  });
});
