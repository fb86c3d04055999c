/**
 * What `deno task dev`'s supervisor answers on its control endpoint about
 * the hosts it runs the processes on (`--hosts`): each host's name and
 * address and the hosts its links are cut from, and the request that cuts
 * a host off. The web app's cluster page reads and sends these; they are
 * REST JSON, not proto messages.
 *
 * @module
 */
import { z } from "zod";

/** The longest host name the control endpoint takes (a process name). */
export const MAX_HOST_NAME = 64;

/** One host: the process it runs (its name), its address, and the hosts it no longer hears (its cut links). */
export const hostViewSchema = z.object({
  name: z.string(),
  address: z.string(),
  cutFrom: z.array(z.string()),
});

/** One host as `GET /hosts` shows it. */
export type HostView = z.infer<typeof hostViewSchema>;

/** `GET /hosts`: every host, and which of them `POST /partition` can cut off (the executors). */
export const hostsViewSchema = z.object({
  hosts: z.array(hostViewSchema),
  partitionable: z.array(z.string()),
});

/** What `GET /hosts` answers. */
export type HostsView = z.infer<typeof hostsViewSchema>;

/**
 * How far `POST /partition` cuts a host off: from the other hosts of its group (an executor from the other
 * executors, still reaching the queue and the store: the seeds' partition), or from every host of the system.
 */
export const PARTITION_SCOPES = ["group", "all"] as const;

/** `POST /partition`: the host to cut off, and from whom. */
export const partitionRequestSchema = z.strictObject({
  host: z.string().min(1).max(MAX_HOST_NAME),
  /** @default "group" */
  from: z.enum(PARTITION_SCOPES).default("group"),
});

/** How far a host is cut off. */
export type PartitionScope = typeof PARTITION_SCOPES[number];

/** What `POST /partition` takes. */
export type PartitionRequest = z.infer<typeof partitionRequestSchema>;
