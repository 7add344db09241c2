/** A Twilio error answer: rendered as Twilio's `{code, message, more_info, status}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody() {
    return {
      code: this.code,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.code}`,
      status: this.status,
    };
  }
}

export const notFound = (path: string) =>
  new ApiError(404, 20404, `The requested resource ${path} was not found`);

export const authenticate = (message = 'Authenticate') => new ApiError(401, 20003, message);
