// Errors a service raises on purpose. Routers map them to tRPC codes and HTTP statuses; their messages
// are written for the person using the app and are safe to show.
const BRANDS = Symbol.for('askport.errorBrands');
type Branded = { [BRANDS]?: readonly string[] };

/**
 * Next bundles server code once per layer (route handlers, server components), so one class can
 * exist twice in a process and a plain `instanceof` fails when the error comes from the other copy.
 * These errors carry the stable names of their classes, and `instanceof` compares those.
 */
export class AskportError extends Error {
  /** The class's name for `instanceof` and logs; every subclass sets its own (minifiers rename classes). */
  static readonly brand: string = 'AskportError';

  constructor(message: string) {
    super(message);
    const brands: string[] = [];
    for (
      let type: unknown = new.target;
      typeof type === 'function' && type !== Error;
      type = Object.getPrototypeOf(type)
    ) {
      if (Object.hasOwn(type, 'brand')) brands.push((type as typeof AskportError).brand);
    }
    Object.defineProperty(this, BRANDS, { value: brands });
    this.name = brands[0] ?? 'AskportError';
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    const brands = value instanceof Error ? (value as Branded)[BRANDS] : undefined;
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` asked about, often a subclass
    return Array.isArray(brands) && brands.includes(this.brand);
  }
}

export class UserFacingError extends AskportError {
  static readonly brand: string = 'UserFacingError';
}

/** The input cannot work as sent (bad SQL, unknown table, bad format): HTTP 400. */
export class InvalidRequestError extends UserFacingError {
  static readonly brand: string = 'InvalidRequestError';
}

/** Missing, or someone else's: the two are indistinguishable on purpose. HTTP 404. */
export class NotFoundError extends UserFacingError {
  static readonly brand: string = 'NotFoundError';
  constructor(what = 'That item') {
    super(`${what} was not found.`);
  }
}

/** Not signed in: HTTP 401. */
export class UnauthenticatedError extends UserFacingError {
  static readonly brand: string = 'UnauthenticatedError';
  constructor() {
    super('Please sign in.');
  }
}

/** Too many requests in a short time: HTTP 429 with Retry-After. */
export class RateLimitedError extends UserFacingError {
  static readonly brand: string = 'RateLimitedError';
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
}

/** The codes errors reach people with; tRPC's names, each with its HTTP status. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export interface DescribedError {
  code: ErrorCode;
  status: (typeof ERROR_STATUS)[ErrorCode];
  /** The sentence for the person: the error's own for domain errors, `internalMessage` otherwise. */
  message: string;
  retryAfterSeconds?: number;
  /** Not one of ours: log it, never show it. */
  internal: boolean;
}

const INTERNAL_MESSAGE = 'Something went wrong on our side. Please try again.';

/**
 * The one error table: a domain error → code → HTTP status → sentence. tRPC procedures and route
 * handlers both answer through it, so the same error is the same answer everywhere.
 */
export function describeError(error: unknown, internalMessage = INTERNAL_MESSAGE): DescribedError {
  const described = (code: ErrorCode, message: string, extra: Partial<DescribedError> = {}): DescribedError => ({
    code,
    status: ERROR_STATUS[code],
    message,
    internal: false,
    ...extra,
  });
  if (error instanceof NotFoundError) return described('NOT_FOUND', error.message);
  if (error instanceof UnauthenticatedError) return described('UNAUTHORIZED', error.message);
  if (error instanceof RateLimitedError)
    return described('TOO_MANY_REQUESTS', error.message, { retryAfterSeconds: error.retryAfterSeconds });
  if (error instanceof UserFacingError) return described('BAD_REQUEST', error.message);
  return described('INTERNAL_SERVER_ERROR', internalMessage, { internal: true });
}
