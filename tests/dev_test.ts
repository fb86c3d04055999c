/**
 * `deno task dev` as a newcomer runs it: every process comes up and answers
 * /healthz, the URL table is printed, a SIGKILLed service is restarted, and
 * Ctrl-C (SIGINT) stops everything.
 */
import assert from "node:assert/strict";
import { devTask } from "./support/dev_task.ts";
import { eventually } from "./support/wait.ts";
import { V8_FLAGS } from "@bookstore/dev/topology";
import { bundleClient } from "../web/bundle.ts";

async function health(port: number): Promise<{ pid: number } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
    return response.ok ? await response.json() : undefined;
  } catch {
    return undefined;
  }
}

Deno.test("deno task dev runs, supervises and stops the whole system", async () => {
  // The first bundle on a machine fetches Deno's bundler, a download this test is not about and cannot time: done
  // here, before the clock starts, if no earlier test or `.ci/run` has done it yet.
  await bundleClient();
  const { command, args, ports, dataDir } = await devTask({ prefix: "bookstore-dev-" });
  for (const flag of V8_FLAGS) assert.ok(args.includes(flag), `the supervisor runs with ${flag}, as its children do`);
  const { web, orchestrator, transactionVerification, fraudDetection, suggestions, orderQueue, executors } = ports;
  const dev = command.spawn();
  let output = "";
  const reading = (async () => {
    for await (const chunk of dev.stdout.pipeThrough(new TextDecoderStream())) output += chunk;
  })();
  dev.stderr.pipeTo(new WritableStream({ write: (chunk) => void (output += new TextDecoder().decode(chunk)) }));
  const all = [web, orchestrator, transactionVerification, fraudDetection, suggestions, orderQueue, ...executors];
  try {
    await eventually(() => output.includes("The bookstore is up:"), { timeoutMs: 60_000, message: "the URL table" })
      .catch((error) => {
        throw new Error(`${error.message}; the output so far:\n${output.slice(-6000)}`);
      });
    for (const port of all) assert.ok(output.includes(`http://localhost:${port}`), `the table lists port ${port}`);
    for (const port of all) assert.ok(await health(port), `port ${port} answers /healthz`);

    const before = (await health(fraudDetection))!.pid;
    Deno.kill(before, "SIGKILL");
    const after = await eventually(async () => {
      const h = await health(fraudDetection);
      return h && h.pid !== before && h.pid;
    }, { message: "fraud_detection to be restarted" });
    assert.notEqual(after, before);
    assert.match(output, /fraud_detection exited \(signal SIGKILL\); restart #1/);

    const faults = await fetch(`http://127.0.0.1:${fraudDetection}/admin/faults`, { method: "POST", body: "{}" });
    await faults.body?.cancel();
    // Dev enables fault injection (the cluster page's buttons), but only for holders of the credential.
    assert.equal(faults.status, 401, "fault injection needs the service credential");

    const checkout = await fetch(`http://127.0.0.1:${orchestrator}/books?q=dune`);
    assert.equal(checkout.status, 200);
    await checkout.body?.cancel();
  } finally {
    dev.kill("SIGINT");
    const status = await dev.status;
    await reading;
    assert.equal(status.code, 0, output.slice(-2000));
    for (const port of all) assert.equal(await health(port), undefined, `port ${port} was released`);
    await Deno.remove(dataDir, { recursive: true });
  }
});
