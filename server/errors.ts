// Errors a service raises on purpose. Routers map them to tRPC codes and HTTP statuses; their messages
// are written for the person using the app and are safe to show.
export class UserFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input cannot work as sent (bad SQL, unknown table, bad format): HTTP 400. */
export class InvalidRequestError extends UserFacingError {}

/** Missing, or someone else's: the two are indistinguishable on purpose. HTTP 404. */
export class NotFoundError extends UserFacingError {
  constructor(what = 'That item') {
    super(`${what} was not found.`);
  }
}

/** Not signed in: HTTP 401. */
export class UnauthenticatedError extends UserFacingError {
  constructor() {
    super('Please sign in.');
  }
}

/** Too many requests in a short time: HTTP 429 with Retry-After. */
export class RateLimitedError extends UserFacingError {
  constructor(readonly retryAfterSeconds: number, message: string) {
    super(message);
  }
}
