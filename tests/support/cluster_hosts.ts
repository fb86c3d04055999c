/**
 * Test clusters on hosts (`startCluster({ hosts: true })`): each process in
 * a network namespace of its own, and the test itself — its traffic, its
 * history reads, its admin calls — on one more host, `client`, so that no
 * request to a host's address is ever sent from the root namespace.
 *
 * A process cannot move itself into a namespace, so a test file runs twice:
 * the outer run (in the root namespace) makes an empty namespace for the
 * client and runs the same file again inside it (`ip netns exec`), one test
 * at a time, streaming its output and failing with its exit code; in the
 * inner run, {@linkcode CLIENT_NAMESPACE_ENV} names that namespace, and each
 * cluster's network links it to its bridge as the host `client` before any
 * process starts (and unlinks it when the network goes, with the bridge).
 *
 * @module
 */
import { destroyNetwork, runCommands } from "@bookstore/dev/hosts/network";
import { hostAddress, namespaceOf } from "@bookstore/dev/hosts/names";

/** The environment variable that tells the inner run which namespace it runs in. */
export const CLIENT_NAMESPACE_ENV = "BOOKSTORE_TEST_CLIENT_NAMESPACE";

/** The client's host name in a cluster's network. */
export const CLIENT_HOST = "client";

/** The client's address: always the network's first host, so a scenario can name it before the cluster starts. */
export const CLIENT_ADDRESS = hostAddress(0);

/** The namespace this run is the client in, or undefined in the root namespace (the outer run). */
export function clientNamespace(): string | undefined {
  return Deno.env.get(CLIENT_NAMESPACE_ENV) || undefined;
}

/**
 * The outer run's half: makes an empty namespace for the client, runs the
 * test `name` of `file` again inside it and throws unless that run passed.
 * The namespace is removed afterwards, whatever happened.
 */
export async function runInsideClient(options: { file: string; name: string }): Promise<void> {
  const namespace = namespaceOf(Deno.pid, CLIENT_HOST);
  await destroyNetwork(Deno.pid);
  await runCommands([`ip netns add ${namespace}`]);
  try {
    const status = await new Deno.Command("ip", {
      args: ["netns", "exec", namespace, Deno.execPath(), "test", "-A", "--filter", options.name, options.file],
      env: { [CLIENT_NAMESPACE_ENV]: namespace },
      stdin: "null",
    }).spawn().status;
    if (!status.success) throw new Error(`the run inside ${namespace} failed (exit code ${status.code}): see above`);
  } finally {
    await destroyNetwork(Deno.pid);
  }
}
