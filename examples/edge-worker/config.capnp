# workerd configuration of the edge-worker example. Build the bundle first:
#
#   node examples/edge-worker/build.mjs
#   node_modules/.bin/workerd serve examples/edge-worker/config.capnp
#
# then e.g. `curl -X POST 'http://127.0.0.1:8787/counter/a/increase?by=2'`. The counters live
# in the hosts of cluster CLUSTER (examples/fleet/host.ts), reached through NATS_URL: your
# nats-server's WebSocket listener (`websocket { listen: "127.0.0.1:8080", no_tls: true }`).

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .counterWorker),
    # Outbound network of the Worker: the default only reaches public addresses; the NATS
    # server of this example listens on loopback.
    (name = "nats-network", network = (allow = ["public", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const counterWorker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "dist/worker.js")],
  compatibilityDate = "2025-09-01",
  bindings = [
    (name = "NATS_URL", text = "ws://127.0.0.1:8080"),
    (name = "CLUSTER", text = "counters"),
  ],
  globalOutbound = "nats-network",
);
