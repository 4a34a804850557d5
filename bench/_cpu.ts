// CPU time of the processes of a bench run, to tell where a path spends its time: this
// process through process.cpuUsage(), other processes (children, nats-server) through
// /proc/<pid>/stat on Linux (user + system time, in clock ticks of 10 ms).

import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";

const TICK_MS = 10;

/** CPU milliseconds used so far by process `pid`, or NaN where /proc cannot tell. */
export function cpuMillisOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return NaN;
  }
}

/** CPU milliseconds used so far by this process. */
export function ownCpuMillis(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** The pid of a child of this process whose command is `name`, if there is one. */
export function childPid(name: string): number | undefined {
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (comm === name && ppid === process.pid) return Number(entry);
      } catch {
        // The process ended meanwhile.
      }
    }
  } catch {
    // No /proc.
  }
  return undefined;
}
