// The writes of the release whose schema is version 1 (before events had versions and
// metadata), for tests that set up a database as that release did, write into it as it did, and
// upgrade it: its setup script (version 1 alone, see adapters/_sql/schema_v1.ts), the calls of
// its append functions, its plain one-event INSERT and its snapshot save, as that release sent
// them.

import type { SqlClient } from "../adapters/_sql/client.ts";
import type { SqlNames } from "../adapters/_sql/names.ts";
import { setupScript } from "../adapters/_sql/schema.ts";

/** Writes as the version-1 release wrote, through `client` on the tables of `names`. */
export class VersionOneWriter {
  readonly #client: SqlClient;
  readonly #names: SqlNames;

  constructor(client: SqlClient, names: SqlNames) {
    this.#client = client;
    this.#names = names;
  }

  /** Creates the schema as the version-1 release's setup() did. */
  async setup(): Promise<void> {
    await this.#client.exec(setupScript(this.#names, []));
  }

  /** One event through the version-1 `append_one` function, its last seqNo checked. */
  async appendOne(typeName: string, id: string, lastSeqNo: number, bytes: Uint8Array) {
    const rows = await this.#client.query(
      `select o_accepted, o_actual from ${this.#names.appendOne}($1::text, $2::text, $3::bigint,
        $4::boolean, $5::bytea, $6::boolean)`,
      [typeName, id, lastSeqNo, true, bytes, false],
    );
    if (rows[0]?.[0] !== true) throw new Error(`append_one refused: ${JSON.stringify(rows)}`);
  }

  /**
   * New entities of one type name through the version-1 group-commit `append` function, each
   * with its events, in one call.
   */
  async append(typeName: string, entities: readonly [string, readonly Uint8Array[]][]) {
    const entity: number[] = [];
    const seq: number[] = [];
    const rank: number[] = [];
    const start: number[] = [];
    const length: number[] = [];
    const all: Uint8Array[] = [];
    let offset = 0;
    entities.forEach(([, events], e) => {
      events.forEach((bytes, n) => {
        entity.push(e + 1);
        seq.push(n + 1);
        rank.push(all.length + 1);
        start.push(offset + 1);
        length.push(bytes.length);
        offset += bytes.length;
        all.push(bytes);
      });
    });
    const packed = new Uint8Array(offset);
    all.reduce((at, bytes) => (packed.set(bytes, at), at + bytes.length), 0);
    const rows = await this.#client.query(
      `select o_accepted, o_actual from ${this.#names.append}($1::text[], $2::text[],
        $3::bigint[], $4::boolean[], $5::text[], $6::integer[], $7::integer[], $8::integer[],
        $9::integer[], $10::integer[], $11::integer[], $12::bytea, $13::boolean)`,
      [
        entities.map(() => typeName),
        entities.map(([id]) => id),
        entities.map(() => 0),
        entities.map(() => true),
        [typeName],
        entity,
        entity.map(() => 1),
        seq,
        rank,
        start,
        length,
        packed,
        false,
      ],
    );
    if (!rows.every((row) => row[0] === true)) {
      throw new Error(`append refused: ${JSON.stringify(rows)}`);
    }
  }

  /** One event at a known position, the version-1 release's bare INSERT. */
  async insertOne(
    typeName: string,
    id: string,
    seqNo: number,
    position: number,
    bytes: Uint8Array,
  ) {
    await this.#client.query(
      `insert into ${this.#names.events} (type_name, id, seq_no, position, bytes)
        values ($1::text, $2::text, $3::bigint, $4::bigint, $5::bytea)`,
      [typeName, id, seqNo, position, bytes],
    );
  }

  /** A snapshot as the version-1 release's save wrote it (keeping one). */
  async saveSnapshot(typeName: string, id: string, seqNo: number, bytes: Uint8Array) {
    const { snapshots } = this.#names;
    await this.#client.query(
      `with saved as (
        insert into ${snapshots} (type_name, id, seq_no, bytes)
        select $1::text, $2::text, $3::bigint, $4::bytea
        where (select count(*) from (select 1 from ${snapshots}
          where type_name = $1::text and id = $2::text and seq_no > $3::bigint
          limit $5::integer) as newer) < $5::integer
        on conflict (type_name, id, seq_no)
          do update set bytes = excluded.bytes, written_at = now()
        returning seq_no
      )
      delete from ${snapshots}
      where type_name = $1::text and id = $2::text and seq_no < (
        select s.seq_no from (
          select seq_no from ${snapshots} where type_name = $1::text and id = $2::text
          union select seq_no from saved
        ) as s order by s.seq_no desc offset $5::integer - 1 limit 1)`,
      [typeName, id, seqNo, bytes, 1],
    );
  }
}
