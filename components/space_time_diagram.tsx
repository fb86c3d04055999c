/**
 * The space-time diagram of an order's validation, drawn on the server as
 * SVG: one line per process of the vector clock plus the orchestrator, each
 * event a..f on its process's line in causal order with its clock, and an
 * arrow for every message that carried a clock. The arrows are not a picture
 * of the intended protocol but derived from the recorded clocks: event y on
 * one line sent its clock to event x on another when y happened before x
 * with no event in between. A rejected order shows where it stopped.
 *
 * @module
 */
import { CLOCK_PROCESSES, VALIDATION_EVENTS, type ValidationEvent } from "@bookstore/lib/contracts";
import { happenedBefore } from "@bookstore/lib/vector_clock";
import { Table } from "./table.tsx";

const EVENT_COLUMNS = ["Event", "What", "Process", "Clock", "Result"];

/** Props of {@linkcode SpaceTimeDiagram}. */
export interface SpaceTimeDiagramProps {
  /** The recorded events with their clocks. */
  events: ValidationEvent[];
  /** Whether the order was approved (else it stopped early). */
  approved: boolean;
}

/** An event placed on the diagram. */
export interface PlacedEvent {
  /** The recorded event. */
  event: ValidationEvent;
  /** Its process's line. */
  lane: number;
  /** Its column: 1 + the longest chain of events that happened before it. */
  rank: number;
}

/** A message between two events, derived from their clocks. */
export interface DerivedMessage {
  /** The sending event's name. */
  from: string;
  /** The receiving event's name. */
  to: string;
}

const LANES = ["orchestrator", ...CLOCK_PROCESSES] as const;
// Every lane of a validation process: InitOrder reaches each of them.
const VALIDATOR_LANES = CLOCK_PROCESSES.map((_, i) => i + 1);
const processOf = (event: ValidationEvent): string =>
  VALIDATION_EVENTS[event.name as keyof typeof VALIDATION_EVENTS]?.process ?? event.service;

/** Places events on lines and columns: each column after every event that happened before it. */
export function placeEvents(events: readonly ValidationEvent[]): PlacedEvent[] {
  const sorted = [...events].sort((a, b) => sum(a.clock) - sum(b.clock) || a.name.localeCompare(b.name));
  const placed: PlacedEvent[] = [];
  for (const event of sorted) {
    const before = placed.filter((p) => happenedBefore(p.event.clock, event.clock));
    const rank = 1 + Math.max(0, ...before.map((p) => p.rank));
    placed.push({ event, lane: Math.max(1, LANES.indexOf(processOf(event) as typeof LANES[number])), rank });
  }
  return placed;
}

/**
 * The messages the clocks prove: an arrow from y to x when y is an immediate
 * causal predecessor of x on another process — y happened before x, and no
 * third event lies between them (the transitive reduction of the order).
 */
export function deriveMessages(placed: readonly PlacedEvent[]): DerivedMessage[] {
  const messages: DerivedMessage[] = [];
  for (const x of placed) {
    const before = placed.filter((y) => happenedBefore(y.event.clock, x.event.clock));
    for (const y of before) {
      if (y.lane === x.lane) continue;
      const between = before.some((z) => z !== y && happenedBefore(y.event.clock, z.event.clock));
      if (!between) messages.push({ from: y.event.name, to: x.event.name });
    }
  }
  return messages;
}

function sum(clock: Record<string, number>): number {
  return Object.values(clock).reduce((total, n) => total + n, 0);
}

/** The clock as a vector in the lines' order: `[items, user, fraud, suggestions]`. */
export function formatClock(clock: Record<string, number>): string {
  return `[${CLOCK_PROCESSES.map((p) => clock[p] ?? 0).join(",")}]`;
}

const LABEL_WIDTH = 230;
const COLUMN = 120;
const ROW = 64;
const TOP = 36;

/** The diagram, with a table of the same events for screen readers and copying. */
export function SpaceTimeDiagram({ events, approved }: SpaceTimeDiagramProps) {
  const placed = placeEvents(events);
  const messages = deriveMessages(placed);
  const byName = new Map(placed.map((p) => [p.event.name, p]));
  const lastRank = Math.max(0, ...placed.map((p) => p.rank));
  const x = (rank: number) => LABEL_WIDTH + 40 + rank * COLUMN;
  const y = (lane: number) => TOP + lane * ROW;
  const width = x(lastRank + 1) + 150;
  const height = y(LANES.length - 1) + 48;
  const failed = placed.find((p) => !p.event.ok);
  const last = failed ?? placed.find((p) => p.rank === lastRank);
  const roots = placed.filter((p) => p.rank === 1);
  const endX = x(lastRank + 1);

  const arrow = (key: string, from: [number, number], to: [number, number], label: string, kind: string) => (
    <g key={key} class={`message ${kind}`}>
      <line x1={from[0]} y1={from[1]} x2={to[0]} y2={to[1]} marker-end="url(#arrowhead)" />
      <text x={(from[0] + to[0]) / 2 + 4} y={(from[1] + to[1]) / 2 - 4}>{label}</text>
    </g>
  );

  return (
    <figure class="diagram">
      <div class="diagram-scroll">
        <svg
          viewBox={`0 0 ${width} ${height}`}
          width={width}
          height={height}
          role="img"
          aria-labelledby="diagram-title diagram-desc"
        >
          <title id="diagram-title">Space-time diagram of the order's validation</title>
          <desc id="diagram-desc">
            {`Events ${placed.map((p) => `${p.event.name} ${formatClock(p.event.clock)}`).join(", ")}.`}
          </desc>
          <defs>
            <marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
              <path d="M0,0 L10,5 L0,10 z" />
            </marker>
          </defs>
          {LANES.map((lane, i) => (
            <g key={lane} class={`lane${i === 0 ? " orchestrator" : ""}`}>
              <text x={8} y={y(i) + 4}>{lane}</text>
              <line x1={LABEL_WIDTH} y1={y(i)} x2={width - 10} y2={y(i)} />
            </g>
          ))}
          {VALIDATOR_LANES.map((lane) =>
            arrow(`init-${lane}`, [x(0) - 40, y(0)], [x(0) - 16, y(lane)], lane === 1 ? "InitOrder" : "", "init")
          )}
          {roots.map((root) =>
            arrow(`start-${root.event.name}`, [x(0), y(0)], [x(root.rank) - 16, y(root.lane)], "start", "advance")
          )}
          {messages.map(({ from, to }) => {
            const a = byName.get(from)!;
            const b = byName.get(to)!;
            return arrow(
              `${from}-${to}`,
              [x(a.rank) + 14, y(a.lane)],
              [x(b.rank) - 16, y(b.lane)],
              "Advance",
              "advance",
            );
          })}
          {last && arrow("report", [x(last.rank) + 14, y(last.lane)], [endX, y(0)], "ReportOutcome", "report")}
          {[1, 2, 3, 4].map((lane) =>
            arrow(`clear-${lane}`, [endX + 60, y(0)], [endX + 90, y(lane)], lane === 4 ? "ClearOrder" : "", "clear")
          )}
          {placed.map((p) => (
            <g key={p.event.name} class={`event${p.event.ok ? "" : " failed"}`} data-event={p.event.name}>
              <circle cx={x(p.rank)} cy={y(p.lane)} r={14} />
              <text class="name" x={x(p.rank)} y={y(p.lane) + 5}>{p.event.name}</text>
              <text class="clock" x={x(p.rank)} y={y(p.lane) + 30}>{formatClock(p.event.clock)}</text>
            </g>
          ))}
          {failed && <text class="stopped" x={x(failed.rank) + 18} y={y(failed.lane) - 18}>stopped here</text>}
        </svg>
      </div>
      <figcaption>
        {approved
          ? "Every event passed. Clocks are [items, user, fraud, suggestions]; an arrow is a message that carried a clock."
          : "Validation stopped at the event marked in red; the orchestrator cancelled the rest."}
      </figcaption>
      <Table class="events" caption="Events and their vector clocks" columns={EVENT_COLUMNS}>
        {placed.map(({ event }) => (
          <tr key={event.name} data-event={event.name} data-clock={JSON.stringify(event.clock)}>
            <td>{event.name}</td>
            <td>{VALIDATION_EVENTS[event.name as keyof typeof VALIDATION_EVENTS]?.what ?? ""}</td>
            <td>{processOf(event)}</td>
            <td>
              <code>{formatClock(event.clock)}</code>
            </td>
            <td>{event.ok ? "passed" : `failed: ${event.detail}`}</td>
          </tr>
        ))}
      </Table>
    </figure>
  );
}
