/**
 * Structured JSON logs, one object a line on stdout, correlated with the
 * active OpenTelemetry trace and scrubbed of anything that looks like card
 * data before it is written.
 *
 * @module
 */
import { trace } from "@opentelemetry/api";

/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A logger bound to one service. */
export interface Logger {
  /** Verbose diagnostics. */
  debug(msg: string, fields?: LogFields): void;
  /** Normal operation. */
  info(msg: string, fields?: LogFields): void;
  /** Something unexpected that the service handled. */
  warn(msg: string, fields?: LogFields): void;
  /** Something failed. */
  error(msg: string, fields?: LogFields): void;
}

const SENSITIVE_KEYS = new Set(["number", "cvv", "cardnumber", "creditcard", "authorization"]);
// A run of 12-19 digits, optionally grouped, is a card number until proven otherwise.
const CARD_LIKE = /\b(?:\d[ -]?){12,18}\d\b/g;

/** Removes card-like data from any value before it is logged. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[deep]";
  if (typeof value === "string") return value.replace(CARD_LIKE, "[redacted]");
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message, depth + 1) };
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SENSITIVE_KEYS.has(k.toLowerCase()) ? "[redacted]" : redact(v, depth + 1),
      ]),
    );
  }
  return value;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. */
  level?: LogLevel;
  /** Where lines go; stdout by default. */
  write?: (line: string) => void;
}

/** Creates a JSON logger for a service. */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? "info"];
  const write = options.write ?? ((line: string) => console.log(line));
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return;
    const span = trace.getActiveSpan()?.spanContext();
    const line = {
      time: new Date().toISOString(),
      level,
      service,
      msg: redact(msg),
      ...(span && span.traceId !== "00000000000000000000000000000000"
        ? { traceId: span.traceId, spanId: span.spanId }
        : {}),
      ...(fields ? redact(fields) as LogFields : {}),
    };
    write(JSON.stringify(line));
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}
