import type { IncomingMessage } from "node:http";
import { seededRandom } from "@palisade/test-utils";
import validator from "validator";
import { describe, expect, it } from "vitest";
import { HINT_CHECKS, inspectRequest } from "./request.js";

// Addresses and near-addresses: valid ones edited by inserting, deleting or replacing a
// character (dots, hyphens, "@", quotes, non-ASCII), plus long local parts, labels and domains.
function addresses(count: number): string[] {
  const bases = [
    "sean.obrien@example.com",
    "a@b.co",
    "x_y+tag@ex-ample.org",
    "o'reilly@mail.example.co.uk",
    "a@b.c",
    "a@b.c1",
    "a@b.xn--p1ai",
    "a@1.2.3.4",
    'a"b"@c.de',
  ];
  const alphabet = "aZ09-._@!#$%&'*+/=?^`{|}~\"() é\u3000";
  const random = seededRandom(20_261_129);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = bases[random(bases.length)]!;
    for (let edits = random(4); edits > 0; edits--) {
      const at = random(text.length + 1);
      const c = alphabet[random(alphabet.length)]!;
      const op = random(3);
      text = text.slice(0, at) + (op === 1 ? "" : c) + text.slice(op === 0 ? at : at + 1);
    }
    if (random(40) === 0) text = `${"a".repeat(random(70))}@${"b".repeat(random(70))}.${"c".repeat(random(70))}`;
    out.push(text);
  }
  return out;
}

describe("field hints", () => {
  describe('with "email"', () => {
    it("judges every string as validator's isEmail does", () => {
      const texts = addresses(40_000);
      const differ = texts.filter((text) => HINT_CHECKS.email(text) !== validator.isEmail(text));
      expect(differ).toEqual([]);
      // Both answers occur, so the comparison is not vacuous.
      expect(texts.filter((text) => validator.isEmail(text)).length).toBeGreaterThan(10_000);
      expect(texts.filter((text) => !validator.isEmail(text)).length).toBeGreaterThan(10_000);
    });
  });
});

describe("inspectRequest()", () => {
  describe('with "fields"', () => {
    it("checks hints on dotted, bracketed and indexed paths", () => {
      const req = {
        url: "/",
        headers: {},
        body: { client: { email: "x" }, "user-name": "y", items: ["1", "two"], 0: "z" },
      } as unknown as IncomingMessage;
      const { hintFailures } = inspectRequest(req, {
        sources: ["body"],
        fields: {
          "body.client.email": "email",
          'body["user-name"]': "email",
          "body.items[1]": "int",
          "body.items[0]": "int",
          'body["0"]': "int",
        },
      });
      expect(hintFailures).toEqual([
        { field: 'body["0"]', hint: "int" },
        { field: "body.client.email", hint: "email" },
        { field: 'body["user-name"]', hint: "email" },
        { field: "body.items[1]", hint: "int" },
      ]);
    });

    it("checks hints on paths written in another form only as written", () => {
      const req = { url: "/", headers: {}, body: { "user-name": "y" } } as unknown as IncomingMessage;
      expect(inspectRequest(req, { sources: ["body"], fields: { "body.user-name": "email" } }).hintFailures).toEqual(
        [],
      );
    });
  });
});
