// The entity cluster's speed: commands routed to the owning host against the same commands to
// a registry in one process and against bare NATS request/reply doing the same persist, and
// the time a killed host's entities take to answer again.
//
//   deno run -A bench/cluster.ts [--phases throughput,failover] [--runs 3] [--seconds 6]
//     [--slices 3] [--entities 1000] [--callers 1,64] [--transports tcp,ws]
//     [--paths routed,local,raw] [--hosts 1] [--failover-runs 5] [--failover-hosts 3]
//     [--lease-ttl 2000]
//   bun run bench/cluster.ts …
//
// It starts its own nats-server (tests/_servers/nats.ts, JetStream, TCP and WebSocket on
// loopback). Hosts and the raw responder are child processes on the bench's runtime, each on a
// TCP connection of its own (bench/_cluster_host.ts, bench/_raw_responder.ts); the callers,
// the client and the local registry run in this process, on the connection of --transports.
//
// throughput  For each caller count C, --runs rounds; each round measures every transport and
//             path for --seconds on fresh entity ids, after one untimed command per entity
//             (spawn), in --slices slices that take turns in an order that changes each slice:
//               routed  EntityClient → NATS → EntityHost (--hosts processes) → entity → persist
//               local   EntityRegistry in this process on a NatsEventLog → persist
//               raw     nc.request → a bare responder that persists as the log does
//                       (bench/_cluster_raw.ts) and replies with the total
//             Every command persists one event and carries a command id. Beside each figure,
//             the CPU time per command of this process, the host or responder, and
//             nats-server. Summary: medians of the rounds, and routed ÷ raw as the median of
//             the rounds' ratios.
// failover    --failover-hosts hosts with --lease-ttl; every round: wait until they share the
//             shards, warm up, load with 64 callers, SIGKILL one host, send one command to
//             every entity at once, and time until each has answered (its shard taken over
//             and its entity recovered); then start a replacement host.

import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { EntityRegistry } from "../mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { shardOf } from "../adapters/nats/_shard_hash.ts";
import { startNatsServer } from "../tests/_servers/nats.ts";
import { intFlag, parseArgs } from "./_args.ts";
import { median, quantile, rate, runtimeName } from "./_stats.ts";
import { startChild } from "./_child.ts";
import { childPid, cpuMillisOf, ownCpuMillis } from "./_cpu.ts";
import { rawSender } from "./_cluster_raw.ts";
import {
  counter,
  counterBinarize,
  counterCommands,
  drive,
  entityIds,
  failureReason,
  type Measured,
  type Send,
  warmUp,
} from "./_cluster_workload.ts";
import { benchClient, Fleet, routedSender, SHARDS, waitBalanced } from "./_cluster_fleet.ts";

const flags = parseArgs();
const list = (name: string, fallback: string) => (flags.get(name) ?? fallback).split(",");
const phases = list("phases", "throughput,failover");
const runs = intFlag(flags, "runs", 3);
const seconds = intFlag(flags, "seconds", 6);
const slices = intFlag(flags, "slices", 3);
const entities = intFlag(flags, "entities", 1000);
const callerCounts = list("callers", "1,64").map(Number);
const transports = list("transports", "tcp");
const paths = list("paths", "routed,local,raw");
const hosts = intFlag(flags, "hosts", 1);
const failoverRuns = intFlag(flags, "failover-runs", 5);
const failoverHosts = intFlag(flags, "failover-hosts", 3);
const leaseTtl = intFlag(flags, "lease-ttl", 2000);
for (const t of transports) {
  if (t !== "tcp" && t !== "ws") throw new Error(`Unknown transport ${t}`);
}
for (const p of paths) {
  if (p !== "routed" && p !== "local" && p !== "raw") throw new Error(`Unknown path ${p}`);
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const stamp = Date.now().toString(36);
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));
const turn = <T>(items: readonly T[], by: number) =>
  items.map((_, i) => items[(i + by) % items.length]!);

function failuresText(failures: Map<string, number>): string {
  if (failures.size === 0) return "0";
  return [...failures].map(([reason, n]) => `${n} ${reason}`).join(", ");
}

console.log(
  `bench/cluster.ts on ${runtimeName()}: phases ${phases.join(", ")}; ${entities} entities`,
);
const server = await startNatsServer({ own: true });
const natsUrl = server.tcpUrl!;
const opened: NatsConnection[] = [];
const open = async (transport: string): Promise<NatsConnection> => {
  const nc = transport === "ws"
    ? await wsconnect({ servers: server.wsUrl })
    : await connect({ servers: natsUrl });
  opened.push(nc);
  return nc;
};

async function throughput(): Promise<void> {
  const cluster = `tput${stamp}`;
  const fleet = new Fleet(natsUrl, cluster, 10_000);
  const raw = startChild("_raw_responder", { natsUrl });
  try {
    const setupLog = new NatsEventLog(await open("tcp"));
    await setupLog.setup();
    for (let h = 0; h < hosts; h++) await fleet.add();
    await raw.ready;
    const senders = new Map<string, { routed: Send; raw: Send; log: NatsEventLog }>();
    for (const transport of transports) {
      const client = benchClient(await open(transport), cluster, 10_000);
      if (transport === transports[0]) {
        const shards = await waitBalanced(client, fleet.hostIds, 60_000);
        console.log(
          `throughput: ${hosts} host(s) own ${[...shards.values()].map((s) => s.length)} shards`,
        );
      }
      senders.set(transport, {
        routed: routedSender(client),
        raw: rawSender(await open(transport)),
        log: new NatsEventLog(await open(transport)),
      });
    }
    const results = new Map<string, Measured[]>();
    const cpu = new Map<string, number[][]>();
    const natsPid = childPid("nats-server");
    const serverPids = (path: string) =>
      path === "routed" ? fleet.pids : path === "raw" ? [raw.process.pid!] : [];
    // CPU ms so far: this process (callers, client or registry), the host or responder
    // processes (NaN for local), nats-server.
    const cpuNow = (path: string) => [
      ownCpuMillis(),
      serverPids(path).reduce((t, pid) => t + cpuMillisOf(pid), 0) || NaN,
      cpuMillisOf(natsPid),
    ];
    for (const callers of callerCounts) {
      for (let run = 0; run < runs; run++) {
        // Every transport and path of this run: fresh entities, spawned before any slice.
        const cases: Case[] = [];
        for (const transport of turn(transports, run)) {
          const s = senders.get(transport)!;
          for (const path of turn(paths, run)) {
            const ids = entityIds(`${stamp}-${path}-${transport}-c${callers}-r${run}`, entities);
            let send: Send;
            let registry: EntityRegistry<number, { type: "added"; by: number }> | undefined;
            if (path === "routed") send = s.routed;
            else if (path === "raw") send = s.raw;
            else {
              const reg = new EntityRegistry(counter, {
                eventLog: s.log,
                binarize: counterBinarize,
              });
              registry = reg;
              send = async (id, commandId) => {
                const result = await reg.handleCommand(id, counterCommands.commands.add(1), {
                  metadata: { commandId },
                });
                if (!result.ok || "duplicate" in result) throw new Error(`unexpected answer`);
              };
            }
            await warmUp(send, ids);
            cases.push({ transport, path, ids, send, registry, parts: [], cpu: [0, 0, 0] });
          }
        }
        // The cases take turns in slices, each time in another order, so a change of the
        // machine's load falls on all of them.
        for (let slice = 0; slice < slices; slice++) {
          for (const c of turn(cases, slice)) {
            const before = cpuNow(c.path);
            c.parts.push(await drive(c.send, c.ids, callers, seconds / slices));
            const after = cpuNow(c.path);
            c.cpu = c.cpu.map((t, i) => t + after[i]! - before[i]!);
          }
        }
        for (const c of cases) {
          await c.registry?.close();
          const measured = combine(c.parts);
          const key = `${c.transport} ${callers} ${c.path}`;
          results.set(key, [...(results.get(key) ?? []), measured]);
          const perCommand = c.cpu.map((t) => t * 1000 / measured.commands);
          cpu.set(key, [...(cpu.get(key) ?? []), perCommand]);
          console.log(
            `C=${callers} run ${run + 1} ${c.transport} ${c.path}: ${
              rate(measured.commands / measured.seconds)
            } cmd/s, p50 ${ms(quantile(measured.latencies, 0.5))}, p99 ${
              ms(quantile(measured.latencies, 0.99))
            }, failed ${failuresText(measured.failures)}, CPU µs/command ${
              perCommand.map((v) => Number.isNaN(v) ? "-" : v.toFixed(0)).join(" / ")
            }`,
          );
        }
      }
    }
    summary(results, cpu);
  } finally {
    await fleet.stop();
    await raw.stop();
  }
}

interface Case {
  transport: string;
  path: string;
  ids: string[];
  send: Send;
  registry: EntityRegistry<number, { type: "added"; by: number }> | undefined;
  parts: Measured[];
  cpu: number[];
}

function combine(parts: readonly Measured[]): Measured {
  const failures = new Map<string, number>();
  for (const part of parts) {
    for (const [reason, n] of part.failures) failures.set(reason, (failures.get(reason) ?? 0) + n);
  }
  return {
    commands: parts.reduce((n, p) => n + p.commands, 0),
    seconds: parts.reduce((n, p) => n + p.seconds, 0),
    latencies: parts.flatMap((p) => p.latencies),
    failures,
  };
}

function summary(results: Map<string, Measured[]>, cpu: Map<string, number[][]>): void {
  const rateOf = (m: Measured) => m.commands / m.seconds;
  console.log(
    `\nthroughput, medians of ${runs} runs of ${seconds} s (${slices} slices each), ${entities} entities, ${hosts} host(s), ${runtimeName()}:\n`,
  );
  console.log(
    "| client transport | callers | path | commands/s | p50 | p99 | ÷ raw | failed | CPU µs/command: bench / host or responder / nats-server |",
  );
  console.log("| --- | --: | --- | --: | --: | --: | --: | --: | --- |");
  for (const transport of transports) {
    for (const callers of callerCounts) {
      const rawRuns = results.get(`${transport} ${callers} raw`);
      for (const path of paths) {
        const measured = results.get(`${transport} ${callers} ${path}`)!;
        const ratio = rawRuns === undefined || path === "raw"
          ? ""
          : `${median(measured.map((m, i) => rateOf(m) / rateOf(rawRuns[i]!))).toFixed(2)}×`;
        const failed = measured.reduce(
          (n, m) => n + [...m.failures.values()].reduce((a, b) => a + b, 0),
          0,
        );
        const cpuRuns = cpu.get(`${transport} ${callers} ${path}`) ?? [];
        const cpuText = [0, 1, 2].map((i) => {
          const value = median(cpuRuns.map((c) => c[i]!));
          return Number.isNaN(value) ? "-" : value.toFixed(0);
        }).join(" / ");
        console.log(
          `| ${transport} | ${callers} | ${path} | ${rate(median(measured.map(rateOf)))} | ${
            ms(median(measured.map((m) => quantile(m.latencies, 0.5))))
          } | ${
            ms(median(measured.map((m) => quantile(m.latencies, 0.99))))
          } | ${ratio} | ${failed} | ${cpuText} |`,
        );
      }
    }
  }
}

interface FailoverRun {
  lostMeanwhile: number;
  victimShards: number;
  affected: number;
  /** Milliseconds from the kill until every entity of the killed host had answered. */
  all: number;
  /** Median over the killed host's entities. */
  medianAffected: number;
  /** Slowest answer among the other hosts' entities. */
  others: number;
  failures: Map<string, number>;
}

async function failover(): Promise<void> {
  const cluster = `fail${stamp}`;
  const fleet = new Fleet(natsUrl, cluster, leaseTtl);
  const client = benchClient(await open("tcp"), cluster, 60_000);
  const done: FailoverRun[] = [];
  try {
    // Started together, the hosts split the shards from the start; one started alone takes all
    // of them and then gives one away per tick (a third of leaseTtl) to those that join.
    await Promise.all(Array.from({ length: failoverHosts }, () => fleet.add()));
    for (let run = 0; run < failoverRuns; run++) {
      // A replacement gets its share one shard per tick from each host above the fair share.
      const shards = await waitBalanced(client, fleet.hostIds, Math.max(120_000, 20 * leaseTtl));
      // Load: 64 callers until the probes are done, their failures counted; a duplicate is a
      // retried command whose first answer was lost with the host: counted, not a failure.
      const failures = new Map<string, number>();
      let duplicates = 0;
      const send = routedSender(client, () => duplicates++);
      const ids = entityIds(`${stamp}-failover-r${run}`, entities);
      await warmUp(send, ids);
      let loading = true;
      const load = Promise.all(Array.from({ length: 64 }, async (_, caller) => {
        for (let i = 0; loading; i++) {
          await send(ids[(caller + 64 * i) % ids.length]!, `${stamp}-${run}-${caller}-${i}`)
            .catch((error) => {
              const reason = failureReason(error);
              failures.set(reason, (failures.get(reason) ?? 0) + 1);
            });
        }
      }));
      await sleep(1_000);
      const victim = fleet.hostIds[run % fleet.hostIds.length]!;
      const owned = new Set(shards.get(victim));
      const t0 = performance.now();
      await fleet.kill(victim);
      const lostBefore = fleet.leasesLost();
      const answered = await Promise.all(ids.map(async (id, e) => {
        await send(id, `${stamp}-${run}-probe-${e}`).catch((error) => {
          const reason = `probe ${failureReason(error)}`;
          failures.set(reason, (failures.get(reason) ?? 0) + 1);
        });
        return { affected: owned.has(shardOf(id, SHARDS)), at: performance.now() - t0 };
      }));
      loading = false;
      await load;
      // Leases the surviving hosts lost meanwhile (renewals late on a loaded machine): each
      // makes its shard unavailable until it is taken again.
      await sleep(1_100); // the hosts report their counts once a second
      const lostMeanwhile = fleet.leasesLost() - lostBefore;
      const affected = answered.filter((a) => a.affected).map((a) => a.at);
      const others = answered.filter((a) => !a.affected).map((a) => a.at);
      const result: FailoverRun = {
        victimShards: owned.size,
        affected: affected.length,
        all: Math.max(...answered.map((a) => a.at)),
        medianAffected: median(affected),
        others: Math.max(...others),
        failures,
        lostMeanwhile,
      };
      done.push(result);
      console.log(
        `failover run ${
          run + 1
        }: killed ${victim} (${owned.size} shards, ${affected.length} entities); every entity answered after ${
          ms(result.all)
        } (median of the killed host's ${ms(result.medianAffected)}, slowest of the others ${
          ms(result.others)
        }); failed ${
          failuresText(failures)
        }, duplicates ${duplicates}, leases lost by the others ${lostMeanwhile}`,
      );
      await fleet.add();
    }
  } finally {
    await fleet.stop();
  }
  console.log(
    `\nfailover, ${failoverHosts} hosts, leaseTtl ${leaseTtl} ms, ${entities} entities, ${runtimeName()}: ` +
      `median ${ms(median(done.map((r) => r.all)))} until every entity answered ` +
      `(runs: ${
        done.map((r) => Math.round(r.all)).join(", ")
      } ms; leases the other hosts lost meanwhile: ${done.map((r) => r.lostMeanwhile).join(", ")})`,
  );
}

try {
  if (phases.includes("throughput")) await throughput();
  if (phases.includes("failover")) await failover();
} finally {
  for (const nc of opened) await nc.close().catch(() => {});
  await server.dispose();
}
process.exit(0);
