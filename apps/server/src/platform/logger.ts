import pino, { type Logger } from 'pino';

/** Paths that may carry secrets or personal data; pino replaces them before a line is written. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.token',
  '*.phone',
  '*.idNumber',
  '*.callerPhone',
  '*.*.phone',
  '*.*.callerPhone',
  '*.*.contact',
  '*.contact',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service: 'wangge' },
      serializers: {
        // Log the path without its query string: queries can carry places and names.
        req: (req: { method: string; url: string; id: string }) => ({
          method: req.method,
          url: req.url.split('?')[0],
          id: req.id,
        }),
      },
    },
    destination,
  );
}
