// The host as a NATS service (micro protocol v1), so `nats micro ls`, `EntityClient.hosts()`
// and any other tool that speaks the protocol find it: every host answers `$SRV.PING`,
// `$SRV.INFO` and `$SRV.STATS`, each also with the service name and with the name and the
// host id appended. The one endpoint, "commands", stands for all shard subjects; its stats
// carry the host's HostStatus in `data`.

import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { clusterPrefix, type HostStatus, OWNER_QUEUE, serviceName } from "./_cluster_protocol.ts";

const encoder = new TextEncoder();
const VERSION = "0.1.0";
const ENDPOINT = "commands";
const VERBS = ["PING", "INFO", "STATS"] as const;

/** The counts behind an endpoint's stats. */
export interface EndpointCounts {
  readonly requests: number;
  readonly errors: number;
  /** Total time spent answering, in ms. */
  readonly processingMs: number;
}

/** What the discovery answers are made of. */
export interface DiscoverySource {
  readonly cluster: string;
  readonly hostId: string;
  /** When the host started, ISO 8601. */
  readonly started: string;
  readonly status: () => HostStatus;
  readonly counts: () => EndpointCounts;
}

/** The subscriptions answering discovery requests; `stop()` ends them. */
export class ServiceDiscovery {
  readonly #subscriptions: Subscription[] = [];

  /** Subscribes the nine discovery subjects of `source` on `nc`. */
  constructor(nc: NatsConnection, source: DiscoverySource, onError: (error: unknown) => void) {
    const name = serviceName(source.cluster);
    for (const verb of VERBS) {
      for (
        const subject of [
          `$SRV.${verb}`,
          `$SRV.${verb}.${name}`,
          `$SRV.${verb}.${name}.${source.hostId}`,
        ]
      ) {
        this.#subscriptions.push(nc.subscribe(subject, {
          callback: (error, msg) => {
            if (error !== null) {
              onError(error);
              return;
            }
            try {
              msg.respond(encoder.encode(JSON.stringify(answer(verb, source))));
            } catch (cause) {
              onError(cause);
            }
          },
        }));
      }
    }
  }

  /** Unsubscribes. */
  stop(): void {
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    this.#subscriptions.length = 0;
  }
}

function answer(verb: (typeof VERBS)[number], source: DiscoverySource): object {
  const base = {
    name: serviceName(source.cluster),
    id: source.hostId,
    version: VERSION,
    metadata: {},
  };
  const subject = `${clusterPrefix(source.cluster)}.cmd.>`;
  switch (verb) {
    case "PING":
      return { type: "io.nats.micro.v1.ping_response", ...base };
    case "INFO":
      return {
        type: "io.nats.micro.v1.info_response",
        ...base,
        description: `eventsourced entity host of cluster "${source.cluster}"`,
        endpoints: [{ name: ENDPOINT, subject, queue_group: OWNER_QUEUE, metadata: {} }],
      };
    case "STATS": {
      const counts = source.counts();
      const processingNs = Math.round(counts.processingMs * 1e6);
      return {
        type: "io.nats.micro.v1.stats_response",
        ...base,
        started: source.started,
        endpoints: [{
          name: ENDPOINT,
          subject,
          queue_group: OWNER_QUEUE,
          num_requests: counts.requests,
          num_errors: counts.errors,
          processing_time: processingNs,
          average_processing_time: counts.requests === 0
            ? 0
            : Math.round(processingNs / counts.requests),
          last_error: "",
          data: source.status(),
        }],
      };
    }
  }
}
