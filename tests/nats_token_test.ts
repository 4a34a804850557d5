// Unit tests of the subject and key token encoding of the NATS adapter (no server needed).

import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeToken, encodeToken } from "../adapters/nats/mod.ts";

const hostile = [
  "a",
  "A",
  "a.b",
  "a*",
  "a>",
  "*",
  ">",
  "a b",
  "a/b",
  "ü",
  "日本",
  "'; --",
  '"q"',
  "a_b",
  "😀",
  "=",
  "==",
  "=2E",
  "a=2Eb",
  ".",
  "..",
  " ",
  "\t",
  "\r\n",
  "\u007f",
  "\u00a0",
  "\u2028",
  "$JS.API",
  "_INBOX.x",
  "-",
  "_",
  "x".repeat(256),
  "😀".repeat(128),
  "\ud7ff\ue000\uffff",
];

test("encodeToken: hostile ids round-trip exactly", () => {
  for (const id of hostile) assert.equal(decodeToken(encodeToken(id)), id, JSON.stringify(id));
});

test("encodeToken: tokens are valid subject tokens and KV keys", () => {
  for (const id of hostile) {
    const token = encodeToken(id);
    assert.match(token, /^[A-Za-z0-9_=-]+$/, JSON.stringify(id));
  }
});

test("encodeToken: different ids never share a token", () => {
  const tokens = new Set(hostile.map(encodeToken));
  assert.equal(tokens.size, new Set(hostile).size);
  // Case and escapes stay distinct.
  assert.notEqual(encodeToken("a"), encodeToken("A"));
  assert.notEqual(encodeToken("a.b"), encodeToken("a=2Eb"));
});

test("encodeToken: plain ids and type names are unchanged", () => {
  for (const id of ["order-1", "Counter_2", "abc", "0"]) assert.equal(encodeToken(id), id);
  assert.equal(encodeToken("a.b"), "a=2Eb");
  assert.equal(encodeToken("ü"), "=C3=BC");
});

test("decodeToken: rejects tokens that encodeToken cannot produce", () => {
  for (const bad of ["a.b", "a b", "=", "=2", "=ZZ", "=2e", "=41", "=FF", "=C3", "*", ""]) {
    if (bad === "") {
      assert.equal(decodeToken(bad), "");
      continue;
    }
    assert.throws(() => decodeToken(bad), TypeError, JSON.stringify(bad));
  }
});
