// pino for the daemon: JSON lines on stdout (pipe through pino-pretty for people). Components take a child once.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level = process.env.LVSD_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'lvsd', level });
}
