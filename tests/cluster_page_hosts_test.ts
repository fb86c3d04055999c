/// <reference lib="dom" />
/**
 * The cluster page under `deno task dev --hosts`, in a real browser through
 * 127.0.0.1's relay: every process is shown on its host with its 127.77
 * address; a person cuts the executor leader off from the other executors
 * and sees the cut links marked and the other replicas stop hearing it,
 * then heals and sees the links come back with exactly one leader and three
 * followers. Skipped, with the reason printed, where namespaces cannot be
 * made.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { hostsUnavailable } from "@bookstore/dev/hosts/network";
import { loadConfig } from "@bookstore/lib/config";
import { assertAccessible, hydrated, launchBrowser, openPage, screenshot } from "./support/browser.ts";
import { devTask, spawnDev } from "./support/dev_task.ts";
import { eventually } from "./support/wait.ts";

const refusal = await hostsUnavailable();
if (refusal) console.log(`tests/cluster_page_hosts_test.ts skipped: ${refusal}`);

/** The executor leader and epoch the page's live line shows. */
async function leader(page: Page): Promise<{ id: number; epoch: number } | undefined> {
  const id = await page.locator("[data-leader]").getAttribute("data-leader");
  const epoch = await page.locator("[data-epoch]").getAttribute("data-epoch").catch(() => null);
  return id && epoch ? { id: Number(id), epoch: Number(epoch) } : undefined;
}

/** The hosts whose links the page marks cut. */
function cutHosts(page: Page): Promise<string[]> {
  return page.locator('tr[data-host][data-cut="yes"]').evaluateAll((rows) =>
    rows.map((row) => row.getAttribute("data-host")!).sort()
  );
}

/**
 * Presses Heal and waits until the page shows no cut link, then one executor leading and three following (while cut
 * off, the others keep electing; healed, one leads and the three follow it).
 */
async function heal(page: Page): Promise<void> {
  await page.click('.host-faults button:has-text("Heal")');
  await page.locator(".notice", { hasText: "healed" }).waitFor({ timeout: 10_000 });
  await eventually(async () => (await cutHosts(page)).length === 0, {
    timeoutMs: 10_000,
    message: "no cut link on the page",
  });
  await eventually(async () =>
    await page.locator('tr[data-replica][data-role="leader"]').count() === 1 &&
    await page.locator('tr[data-replica][data-role="follower"]').count() === 3, {
    timeoutMs: 30_000,
    message: "exactly one executor leading and three following after the heal",
  });
}

Deno.test({
  name:
    "the cluster page on hosts: cut the executor leader off from the others, then from everything; heal into one leader",
  ignore: refusal !== undefined,
}, async (t) => {
  const task = await devTask({ prefix: "bookstore-page-hosts-", store: "etcd" });
  const dev = spawnDev(task, { args: ["--hosts"] });
  const problems: string[] = [];
  const browser = await launchBrowser();
  try {
    const base = `http://127.0.0.1:${task.ports.web}`;
    await eventually(async () => {
      const response = await fetch(`${base}/cluster`, { signal: AbortSignal.timeout(10_000) });
      await response.body?.cancel();
      return response.status === 200;
    }, { timeoutMs: 120_000, intervalMs: 500, message: "the cluster page through the relay" }).catch((error) => {
      throw new Error(`${error.message}\n${dev.output().slice(-3000)}`);
    });
    const page = await openPage(browser, { problems });
    await page.goto(`${base}/cluster`);
    await hydrated(page);
    await page.locator(".live-note", { hasText: "Updating live" }).waitFor();

    let before = { id: 0, epoch: 0 };
    await t.step("every process on its host with a 127.77 address, one leader, no link cut", async () => {
      await page.locator('tr[data-host="order_executor_4"]').waitFor({ timeout: 30_000 });
      const hosts = await page.locator("tr[data-host]").evaluateAll((rows) =>
        rows.map((row) => [row.getAttribute("data-host"), row.querySelector("code")?.textContent])
      );
      const names = hosts.map(([name]) => name);
      for (const name of ["order_executor_1", "order_executor_4", "order_queue_1", "web", "etcd1"]) {
        assert.ok(names.includes(name), `${name} among ${names.join(", ")}`);
      }
      for (const [name, address] of hosts) assert.match(address ?? "", /^127\.77\.\d+\.\d+$/, `${name}'s address`);
      before = await eventually(() => leader(page), { timeoutMs: 30_000, message: "a leader on the page" });
      assert.deepEqual(await cutHosts(page), []);
      await assertAccessible(page, "cluster on hosts");
      await screenshot(page, "cluster-hosts");
    });

    await t.step("cutting the leader off: its links marked cut, the other replicas no longer hear it", async () => {
      await page.click('button:text-is("Cut the leader off")');
      await page.locator(".notice", { hasText: "cut off" }).waitFor({ timeout: 10_000 });
      const cut = `order_executor_${before.id}`;
      const others = [1, 2, 3, 4].filter((id) => id !== before.id).map((id) => `order_executor_${id}`);
      await eventually(async () => (await cutHosts(page)).join() === [cut, ...others].sort().join(), {
        timeoutMs: 10_000,
        message: `the cut links of ${cut} and the other executors marked`,
      });
      assert.equal(
        await page.locator(`tr[data-host="${cut}"] td`).nth(1).textContent(),
        others.join(", "),
        "the leader's host is cut from the other executors alone",
      );
      // The others stop hearing the leader: each calls elections (a candidate) or waits on a heartbeat older than the
      // timeout. None of them takes over while the cut-off leader still reaches the queue, whose fence refuses a new
      // epoch to anyone while a live leader holds it (the seeds' partition: one executes at a time); a person sees the
      // cut links and the followers gone deaf, and the same leader.
      const { heartbeatTimeoutMs } = loadConfig(task.env).executor;
      const rows = await eventually(async () => {
        const shown = await page.locator("tr[data-replica]").evaluateAll((rows) =>
          rows.map((row) => ({
            id: Number(row.getAttribute("data-replica")),
            role: row.getAttribute("data-role"),
            heartbeat: row.children[3]?.textContent ?? "",
          }))
        );
        const others = shown.filter((row) => row.id !== before.id);
        const deaf = others.filter((row) =>
          row.role !== "follower" || Number(/(\d+) ms ago/.exec(row.heartbeat)?.[1] ?? 0) > heartbeatTimeoutMs
        );
        if (others.length === 3 && deaf.length === others.length) return shown;
        // Thrown so that a timeout says what the page showed instead.
        throw new Error(`the page shows ${JSON.stringify(shown)}`);
      }, { timeoutMs: 30_000, intervalMs: 25, message: `every replica but ${before.id} no longer hearing it` });
      await screenshot(page, "cluster-hosts-partitioned");
      console.log(
        `leader ${before.id} cut off; the others: ${JSON.stringify(rows)}; leader now ${
          JSON.stringify(await leader(page))
        }`,
      );
      await assertAccessible(page, "cluster on hosts, partitioned");
    });

    await t.step("healing: no link cut, exactly one leader", async () => {
      await heal(page);
    });

    await t.step(
      "cutting the leader off from everything: another replica leads in a higher epoch; healed, one leads",
      async () => {
        const now = await eventually(() => leader(page), { timeoutMs: 30_000, message: "a leader on the page" });
        await page.click('button:text-is("Cut the leader off from everything")');
        await page.locator(".notice", { hasText: "every host" }).waitFor({ timeout: 10_000 });
        // Cut off from the queue too, the leader can no longer hold it: once its hold lapses another replica gets an
        // epoch of its own.
        const next = await eventually(async () => {
          const shown = await leader(page);
          if (shown && shown.id !== now.id && shown.epoch > now.epoch) return shown;
          throw new Error(`the page shows leader ${JSON.stringify(shown)}`);
        }, { timeoutMs: 30_000, intervalMs: 25, message: `another leader than ${now.id} in a higher epoch` });
        console.log(
          `leader ${now.id} (epoch ${now.epoch}) cut off from everything; ${next.id} leads in epoch ${next.epoch}`,
        );
        await screenshot(page, "cluster-hosts-isolated");
        await heal(page);
      },
    );

    await t.step("no console error", () => {
      assert.deepEqual(problems, []);
    });
  } finally {
    await browser.close();
    await dev.stop();
    await Deno.remove(task.dataDir, { recursive: true });
  }
});
