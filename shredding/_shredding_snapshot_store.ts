// The snapshot store of crypto-shredding: encrypts the personal part of a state on save and
// decrypts it (or marks it forgotten) on load; delete goes to the store unchanged.

import type { CallOptions } from "../src/event_log.ts";
import type { SaveSnapshotOptions, Snapshot, SnapshotStore } from "../src/snapshot_store.ts";
import { assertId, assertTypeName } from "../src/_validate.ts";
import { FALLBACK, isEnvelope, Personal, readEnvelope, WHOLE } from "./_envelope.ts";
import type { KeyRing } from "./_key_ring.ts";
import { seal, unseal } from "./_seal.ts";

export function shreddingSnapshotStore(store: SnapshotStore, keys: KeyRing): SnapshotStore {
  const shredding: SnapshotStore = {
    async save(
      typeName: string,
      id: string,
      seqNo: number,
      bytes: Uint8Array,
      options?: SaveSnapshotOptions,
    ): Promise<void> {
      assertTypeName(typeName);
      assertId(id);
      if (!(bytes instanceof Uint8Array)) {
        throw new TypeError("shredding: a snapshot's bytes must be a Uint8Array");
      }
      let stored = bytes;
      if (isEnvelope(bytes)) {
        const envelope = readEnvelope(bytes);
        if (envelope.personal === Personal.Clear) {
          const key = await keys.obtain(typeName, id, options?.signal);
          stored = await seal(envelope, key, typeName, id);
        }
      }
      await store.save(typeName, id, seqNo, stored, options);
    },
    async load(typeName: string, id: string, options?: CallOptions): Promise<Snapshot | null> {
      const snapshot = await store.load(typeName, id, options);
      if (snapshot === null || !isEnvelope(snapshot.bytes)) return snapshot;
      const envelope = readEnvelope(snapshot.bytes);
      if (envelope.personal !== Personal.Sealed) return snapshot;
      const key = await keys.find(typeName, id, options?.signal);
      const entity = `${typeName} ${JSON.stringify(id)}`;
      const bytes = await unseal(envelope, key, typeName, id, `the snapshot of ${entity}`);
      if (
        readEnvelope(bytes).personal === Personal.Forgotten && (envelope.flags & WHOLE) !== 0 &&
        (envelope.flags & FALLBACK) === 0
      ) {
        throw new Error(
          `shredding: the snapshot of ${entity} (seqNo ${snapshot.seqNo}) was forgotten and its ` +
            "codec has no `forgottenState`: give shreddingBinarize a `forgottenState`, or delete " +
            "the snapshot (the events it covers may be deleted, so it is not passed over)",
        );
      }
      return { seqNo: snapshot.seqNo, version: snapshot.version, bytes };
    },
  };
  if (store.delete) {
    const del = store.delete.bind(store);
    shredding.delete = (typeName: string, id: string, options?: CallOptions) =>
      del(typeName, id, options);
  }
  return shredding;
}
