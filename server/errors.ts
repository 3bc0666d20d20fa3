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
